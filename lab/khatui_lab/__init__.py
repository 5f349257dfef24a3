"""khatui's local lab: real test nodes on one Linux machine, and stand-ins for what cannot be installed.

A distribution of its own (khatui-lab, lab/pyproject.toml), never part of the khatui wheel: the
product does not import it, the lab imports the product. `khatui_lab.lab.Lab` brings nodes up and
down and injects faults; `khatui_lab.standins` is the package of lab-only kubeadm, kubelet, kubectl
and kube-apiserver stand-ins that `Lab.up` copies onto every node; `khatui_lab.command` is the
`khatui lab` command, found by khatui through the `khatui.commands` entry point group.

Kept free of imports, so `khatui --help` loading `khatui_lab.command` stays cheap.
"""
