"""The lab shape every family shares: the frame, the transport, the keyboard, the timeline.

A family's lab subclasses :class:`Lab` and provides

* ``model`` -- its validated ``traitlets`` configuration (knows no widgets);
* ``session`` -- the engine run behind it: ``step`` (latest), ``horizon`` (the step
  limit), ``advance(k) -> bool``, ``restart(cfg)``, ``view(step)`` (plain arrays),
  ``messages(step)`` (what happened, in words) and ``history`` (``to_csv``);
* ``charts`` -- ``{name: chart}``, every chart with ``configure(style)``,
  ``draw(view)`` and a ``widget``; ``panels`` -- text panels with the same interface,
  drawn throttled (equations, metrics);
* ``style()`` -- the record every chart's ``configure`` receives;
* ``controls()`` -- the widgets on the left; ``layout`` -- which charts are shown where.

and calls :meth:`Lab.start` at the end of its ``__init__``.  The lab is displayable
itself (``_repr_mimebundle_``); nothing is assigned onto it from outside.

Scenes: ``scenes()`` returns named presets (:class:`Scene`); one click in the scene
picker, or ``?scene=NAME`` in the page address, resets the lab to that situation.
``?projector=1`` or the projector toggle enlarges fonts, marks and charts for a room.

Frames: :attr:`player` (one asyncio task, paced by :attr:`clock`) calls :meth:`frame`.
Only the charts on screen are drawn: a chart in an unselected tab is brought up to date
when its tab is selected.  The step counter (CSS class ``descentlab-step``) shows the
step on screen.
"""

from __future__ import annotations

import html
from typing import NamedTuple

import ipywidgets as W
import traitlets as T

from descentlab.widgets.ui.controls import ErrorLine, StatusLine, button
from descentlab.widgets.ui.export import CsvExport
from descentlab.widgets.ui.figures import PROJECTOR_CSS, ChartTabs, project

from .clock import FrameClock
from .keys import Keys
from .player import Player
from .timeline import Timeline
from .timing import Throttle

__all__ = ["Lab", "Layout", "Scene", "Session"]

OFFSCREEN_CSS = """<style>
.jp-MarkdownCell { content-visibility: auto; contain-intrinsic-size: auto 300px; }
</style>"""
"""The notebook's text cells are not laid out or painted while off screen: a course page
holds thousands of typeset-maths nodes, and without this the browser re-walked them all
on every frame the app drew (measured: Paint 16-20 ms of each frame, 4-8 ms with it)."""

STALLED = ("paused: the browser stopped drawing (the tab was closed or hidden); "
           "press play to go on")


def _same(a, b) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):     # arrays and other values without a plain ==
        return a is b


class Scene(NamedTuple):
    """A prepared situation: a title for the picker, the model settings it applies (on
    top of the app's own defaults), and what to look at (shown in the status line)."""

    title: str
    settings: dict
    note: str = ""
    speed: int | None = None


class Session:
    """A session made from one validated config record: ``Session(cfg)`` starts it with
    :meth:`restart`, which a subclass defines with the rest of the contract (the module
    docstring: ``step``, ``horizon``, ``advance``, ``view``, ``messages``, ``history``)."""

    def __init__(self, cfg):
        self.restart(cfg)

    def restart(self, cfg) -> None:
        """Start over with ``cfg`` (what ``R`` and a restarting edit call)."""
        raise NotImplementedError


class Layout:
    """Where a lab's charts go: ``left`` beside the controls, ``tabs`` as (title, name)
    pairs in one ``Tab``, ``bottom`` under the transport (panels by name)."""

    def __init__(self, left=(), tabs=(), bottom=()):
        self.left, self.tabs, self.bottom = tuple(left), tuple(tabs), tuple(bottom)


class Lab:
    """What every playing lab shares.  See the module docstring for the contract."""

    title = "descentlab"
    step_name = "step"
    filename = "history.csv"
    layout = Layout()

    # ---- construction (subclasses set model, session, charts, panels first)

    def start(self, panel_interval: float = 0.25, playing_interval: float = 1.0) -> None:
        """Build the shared parts, draw step 0 and compose :attr:`widget` (paused).

        Panels (typeset equations: the costliest thing a browser redraws here) are
        redrawn at most every ``panel_interval`` s, every ``playing_interval`` s while
        playing, and at once on pause."""
        self.errors = ErrorLine()
        self.status = StatusLine()
        self.clock = FrameClock()
        self.player = Player(self.frame, clock=self.clock)
        self.player.on_stop = self._stopped
        self.player.on_stall = lambda: self.errors.show(STALLED)
        self.player.on_error = lambda err: self.errors.show(f"{type(err).__name__}: {err}")
        self.keys = Keys({"toggle": self.toggle, "forward": self.forward, "back": self.back,
                          "reset": self.reset}, on_error=lambda e: self.errors.show(str(e)),
                         on_url=self.apply_url)
        self._defaults = {n: getattr(self.model, n) for n in self.model.trait_names()
                          if not n.startswith("_")}
        self.scene_note = ""
        self.scene = ""            # the scene applied last ("" : none)
        tabbed = [n for _, n in self.layout.tabs if n in self.charts]
        self.hidden: set[str] = set(tabbed[1:])    # unselected tabs: not drawn per frame
        self._view_step: int | None = None
        self._view = None            # the view drawn last (the panels draw it too)
        self.counter = W.HTML(layout=W.Layout(min_width="190px"))
        self.counter.add_class("descentlab-step")
        slider = W.IntSlider(0, min=0, max=0, description=self.step_name,
                             continuous_update=True, layout=W.Layout(width="100%"),
                             style={"description_width": "70px"}, readout=False)
        self.timeline = Timeline(slider, self._scrubbed, lambda: self.player.playing)
        self.export = CsvExport(lambda: self.session.history, self.filename)
        self._panels_later = Throttle(self._draw_panels, panel_interval)

        def pace_panels(change):
            self._panels_later.interval = playing_interval if change["new"] else panel_interval
            if not change["new"]:
                self._panels_later.flush()      # paused: the panels show the step on screen

        self.player.observe(pace_panels, "playing")
        self.configure()
        self.render()
        self._panels_later.flush()
        self.widget = self.compose()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # ---- what subclasses define

    def style(self):
        raise NotImplementedError

    def controls(self) -> list[W.Widget]:
        return []

    def scenes(self) -> dict[str, Scene]:
        """Named presets of this lab (none by default)."""
        return {}

    def extra(self) -> list[W.Widget]:
        """Widgets under the charts (notes, tables): none by default."""
        return []

    # ---- the step on screen

    @property
    def shown(self) -> int:
        """The step on screen: the scrubbed one, or the latest."""
        s = self.session
        return s.step if self._view_step is None else min(self._view_step, s.step)

    # ---- drawing

    def configure(self) -> None:
        """Give every chart and panel the current runs' style (no per-frame work)."""
        style = self.style()
        for chart in (*self.charts.values(), *self.panels.values()):
            chart.configure(style)

    def render(self, step: int | None = None, everything: bool = False) -> None:
        """Draw the shown step in every visible chart (``everything``: hidden ones too)."""
        if step is not None:
            self._view_step = step
        s = self.session
        view = s.view(self.shown)
        for name, chart in self.charts.items():
            if everything or name not in self.hidden:
                chart.draw(view)
        self._view = view
        self.timeline.show(view.step, s.step, s.horizon)
        self.counter.value = (f"<span style='font-size:17px;font-weight:600'>"
                              f"{self.step_name} {view.step} / {s.horizon}</span>")
        self._panels_later.call()
        notes = [self.scene_note] if getattr(self, "scene_note", "") else []
        self.status.show(notes + s.messages(view.step))

    def _draw_panels(self) -> None:
        if self._view is not None:
            for panel in self.panels.values():
                panel.draw(self._view)

    def _stopped(self) -> None:
        self._panels_later.flush()

    def flush(self) -> None:
        """Draw every chart now, hidden tabs included, and the panels (tests, export)."""
        self.render(self._view_step, everything=True)
        self._panels_later.flush()

    # ---- time

    def frame(self, k: int) -> bool:
        """Advance ``k`` steps and redraw the latest.  False when every run stopped."""
        more = self.session.advance(k)
        self._view_step = None
        self.render()
        return more

    def step(self) -> bool:
        """Pause and advance exactly one step."""
        self.player.pause()
        self._view_step = None
        return self.player.tick(1)

    def toggle(self) -> None:
        """Play / pause (Space)."""
        if self.player.playing:
            self.player.pause()
        else:
            self.errors.clear()
            self.player.play()

    def forward(self) -> None:
        """→: one step forward -- through the past when scrubbed back, else a new step."""
        if self._view_step is not None and self._view_step < self.session.step:
            self.player.pause()
            self.show_step(self._view_step + 1)
        else:
            self.step()

    def back(self) -> None:
        """←: pause and show the previous step."""
        self.player.pause()
        self.show_step(max(self.shown - 1, 0))

    def show_step(self, step: int) -> None:
        self._view_step = None if step >= self.session.step else int(step)
        self.render()
        self._panels_later.flush()

    def reset(self) -> None:
        """Start the run over with the current settings (R)."""
        self.player.pause()
        self.session.restart(self.model.config())
        self.restyle()

    def restyle(self, latest: bool = True) -> None:
        """Configure every chart and panel for the runs now and draw them: the latest step
        (``latest``), else the step on screen."""
        if latest:
            self._view_step = None
        self.configure()
        self.render()
        self._panels_later.flush()

    # ---- scenes, projector, the page address

    def apply_scene(self, name: str) -> None:
        """Reset to scene ``name``: the app's defaults, then the scene's settings, at step
        0 and paused.  An unknown name or a rejected setting shows a message and keeps the
        lab as it was."""
        scenes = self.scenes()
        if name not in scenes:
            self.errors.show(f"scene must be one of {', '.join(scenes) or '(none)'}; "
                             f"got {name!r}")
            return
        scene = scenes[name]
        self.player.pause()
        values = {**self._defaults, **scene.settings}
        if not self.assign(name, {k: v for k, v in values.items()
                                  if not _same(getattr(self.model, k), v)}):
            return
        if scene.speed is not None:
            self.player.speed = scene.speed
        self.errors.clear()
        self.scene = name
        self.scene_note = f"{scene.title}: {scene.note}" if scene.note else scene.title
        self.reset()
        if self._scene_menu is not None:
            self._scene_menu.value = name      # its observer sees self.scene: not applied again

    def assign(self, scene: str, values: dict) -> bool:
        """Set ``values`` on the model in one block, refused whole: a rejected setting is
        shown as ``scene 'NAME': message`` and nothing changes (False)."""
        try:
            with self.model.hold_trait_notifications():
                for key, value in values.items():
                    setattr(self.model, key, value)
        except (T.TraitError, ValueError) as err:
            self.errors.show(f"scene {scene!r}: {err}")
            return False
        return True

    def _scene_picked(self, change) -> None:
        if change["new"] and change["new"] != self.scene:
            self.apply_scene(change["new"])

    def set_projector(self, on: bool) -> None:
        """Projector mode: larger fonts, marks and charts (1920x1080, the back of a room)."""
        project(self.widget, bool(on))
        if self._projector.value != bool(on):
            self._projector.value = bool(on)

    def apply_url(self, query: dict[str, str]) -> None:
        """``?scene=NAME`` and ``?projector=1`` from the page address."""
        if query.get("projector", "").lower() in ("1", "true", "on", "yes"):
            self.set_projector(True)
        if "scene" in query:
            self.apply_scene(query["scene"])

    def _scrubbed(self, new: int) -> None:
        """A person moved the timeline: pause and show that step (the latest: follow)."""
        self.player.pause()
        self.show_step(new)

    def close(self) -> None:
        self.player.close()
        self._panels_later.cancel()

    # ---- composition

    def transport(self) -> W.HBox:
        e = self.errors
        play = button("play", "play", self.toggle, "play / pause (Space)", e)
        step = button("step", "step-forward", self.step, "one step (→)", e)
        reset = button("reset", "undo", self.reset, "start the run over (R)", e)
        speed = W.BoundedIntText(self.player.speed, min=1, max=100_000,
                                 description="steps/frame",
                                 style={"description_width": "80px"},
                                 layout=W.Layout(width="170px"))
        W.link((speed, "value"), (self.player, "speed"))

        def relabel(change):
            play.description = "pause" if change["new"] else "play"
            play.icon = "pause" if change["new"] else "play"

        self.player.observe(relabel, "playing")
        return W.HBox([play, step, reset, speed, self.counter],
                      layout=W.Layout(align_items="center"))

    def watch_tabs(self, tab: ChartTabs, names) -> ChartTabs:
        """``tab.children[i]`` shows chart ``names[i]``: only the selected one is drawn
        per frame; selecting a tab brings its chart up to date."""
        names = list(names)

        def selected(change=None):
            i = tab.selected_index
            self.hidden = {n for j, n in enumerate(names) if j != i}
            if change is not None:
                self.render(self._view_step)

        tab.observe(selected, "selected_index")
        selected()
        return tab

    def retitle(self, text: str) -> None:
        """The heading says what is on screen (e.g. the surface now raced on)."""
        self.title = text
        self.head.value = (f"<h3 style='margin:4px 0;font-size:22px'>{html.escape(text)}"
                           f"</h3>")

    def compose(self) -> W.VBox:
        lay = self.layout
        left = [self.charts[n].widget for n in lay.left if n in self.charts]
        tabs = [(t, n) for t, n in lay.tabs if n in self.charts]
        right = []
        if tabs:
            tab = ChartTabs([t for t, _ in tabs], [self.charts[n].widget for _, n in tabs])
            right = [self.watch_tabs(tab, [n for _, n in tabs])]
        ctrl = self.column = W.VBox(self.controls(),
                                    layout=W.Layout(width="300px", min_width="300px"))
        ctrl.add_class("descentlab-controls")    # projector mode widens it
        # the charts fill the column right of the controls and wrap inside it: what does
        # not fit beside the first chart goes under it, not under the controls
        charts = W.HBox([*left, *right], layout=W.Layout(
            flex_flow="row wrap", align_items="flex-start", align_content="flex-start",
            flex="1 1 0%", min_width="0"))
        main = W.HBox([ctrl, charts], layout=W.Layout(align_items="flex-start"))
        bottom = [self.panels[n].widget for n in lay.bottom if n in self.panels]
        self.head = W.HTML()
        self.retitle(self.title)
        self._projector = W.ToggleButton(False, description="projector", icon="television",
                                         tooltip="larger fonts and charts (?projector=1)",
                                         layout=W.Layout(width="auto"))
        self._projector.observe(lambda c: self.set_projector(c["new"]), "value")
        scenes = self.scenes()
        self._scene_menu = None
        head = [self.head]
        if scenes:
            self._scene_menu = W.Dropdown(options=[("choose a scene…", "")] +
                                      [(sc.title, n) for n, sc in scenes.items()],
                                      value="", description="scene",
                                      style={"description_width": "50px"},
                                      layout=W.Layout(width="360px"))
            self._scene_menu.add_class("descentlab-scene-menu")   # projector mode widens it
            self._scene_menu.observe(self._scene_picked, "value")
            head.append(self._scene_menu)
        head.append(self._projector)
        top = W.HBox(head, layout=W.Layout(align_items="center", grid_gap="16px",
                                           flex_flow="row wrap"))
        box = W.VBox([W.HTML(PROJECTOR_CSS + OFFSCREEN_CSS), top, main, self.transport(),
                      self.timeline.slider,
                      self.errors.widget, self.status.widget, *self.extra(),
                      W.HBox([*bottom, self.export.widget],
                             layout=W.Layout(flex_flow="row wrap")),
                      self.clock, self.keys])
        box.add_class("descentlab-app")
        return box
