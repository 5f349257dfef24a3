"""The wizard's frame: which step you are on, and the problems of the page that no field shows."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from khatui.spec.problems import Problem, Severity


class StepBar(Static):
    """One line naming every wizard step, the current one highlighted."""

    DEFAULT_CSS = """
    StepBar {
        height: 1;
        width: 1fr;
        background: $panel;
        color: $text-muted;
        padding: 0 1;
    }
    """

    current: reactive[str] = reactive("")

    def __init__(self, steps: list[tuple[str, str]], current: str, cluster: str = "") -> None:
        super().__init__()
        self.steps = steps
        self.cluster = cluster
        self.set_reactive(StepBar.current, current)

    def render(self) -> Text:
        width = self.content_size.width or 78
        titles = [title for _, title in self.steps]
        # Every step stays named: on a narrow terminal the separators lose their spaces first.
        separator = " › " if len(" › ".join(titles)) <= width else "›"
        text = Text()
        for index, (name, title) in enumerate(self.steps):
            if index:
                text.append(separator, "dim")
            if name == self.current:
                text.append(title, "bold reverse")
            else:
                text.append(title)
        if self.cluster and text.cell_len + len(self.cluster) + 4 < (self.size.width or 80):
            text.append("  ")
            text.append(self.cluster, "italic")
        return text


class ProblemPanel(Static):
    """The page's problems not shown next to a field (errors first), or a short 'all good'."""

    DEFAULT_CSS = """
    ProblemPanel {
        height: auto;
        max-height: 5;
        padding: 0 1;
        color: $text-muted;
    }
    ProblemPanel.-errors {
        color: $text-error;
    }
    """

    _shown: tuple[object, ...] = ()

    def show(
        self,
        problems: list[Problem],
        limit: int = 3,
        all_clear: str = "✓ no problems on this page",
        inline: tuple[int, int] = (0, 0),
    ) -> None:
        """Show up to `limit` problems, with a count of the rest; `inline` counts the (errors,
        warnings) already shown next to their fields."""
        key = tuple(problems[: limit + 1]), len(problems), all_clear, inline
        if key == self._shown:
            return  # unchanged: no repaint, no relayout
        self._shown = key
        errors = [p for p in problems if p.severity is Severity.ERROR]
        self.set_class(bool(errors), "-errors")
        if not problems and any(inline):
            errors_inline, warnings_inline = inline
            self.set_class(bool(errors_inline), "-errors")
            parts = [
                f"{n} {word}{'s' * (n != 1)}"
                for n, word in ((errors_inline, "error"), (warnings_inline, "warning"))
                if n
            ]
            self.update(
                Text(
                    f"{' and '.join(parts)} on this page, shown at the fields above",
                    "red" if errors_inline else "yellow",
                )
            )
            return
        if not problems:
            self.update(Text(all_clear, "green"))
            return
        text = Text()
        for problem in problems[:limit]:
            if text:
                text.append("\n")
            style = "red" if problem.severity is Severity.ERROR else "yellow"
            text.append(f"{problem.severity}: ", f"bold {style}")
            if problem.path:
                text.append(f"{problem.field}: ", "dim")
            text.append(problem.message)
        if len(problems) > limit:
            text.append(f"\n… and {len(problems) - limit} more (F1 lists the keys, review shows all)", "dim")
        self.update(text)
