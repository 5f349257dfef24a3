"""The only ways a value reaches text that another program parses: a shell command, a shell-sourced
env file, a systemd unit, a line-oriented config file.

Each target has its own module, because each has its own grammar: `shell` quotes argv words once and
composes commands with typed operators, `systemd` applies systemd's escaping rules, `lines` keeps a
value on one line and one word. All of them refuse what their target cannot represent with
`UnsafeValue`, a one-line input error, so a value that validation let through still cannot change
the structure of what khatui writes or runs. The package imports nothing of khatui but its errors,
so every layer (render, plan, preflight, facts, engine) may use it.
"""
