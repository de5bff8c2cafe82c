"""The Lab base: only shown charts are drawn, keys drive time, the counter says the step."""

import asyncio

from descentlab.widgets.core.keys import KEYS


def tree(w):
    yield w
    for c in getattr(w, "children", ()):
        yield from tree(c)


def test_builds_paused_configured_and_drawn_at_step_zero(toy):
    assert not toy.player.playing and toy.session.step == 0
    for name in ("a", "b", "c", "p"):
        chart = toy.charts.get(name) or toy.panels[name]
        assert chart.styles == [("style", 50)]
    assert [v.step for v in toy.charts["a"].views] == [0]
    assert [v.step for v in toy.charts["b"].views] == [0]   # the selected tab
    assert toy.charts["c"].views == []                      # an unselected tab: not drawn
    assert toy.panels["p"].views and toy.panels["p"].views[-1].step == 0


def test_the_lab_is_displayable_and_holds_clock_keys_counter(toy):
    parts = list(tree(toy.widget))
    for w in (toy.clock, toy.keys, toy.counter, toy.timeline.slider):
        assert w in parts
    assert "descentlab-step" in toy.counter._dom_classes
    assert "descentlab-app" in toy.widget._dom_classes
    assert "step 0 / 50" in toy.counter.value
    assert "application/vnd.jupyter.widget-view+json" in toy._repr_mimebundle_()


def test_frames_draw_visible_charts_and_a_tab_catches_up_when_selected(toy):
    toy.frame(5)
    assert toy.charts["a"].views[-1].step == 5 and toy.charts["c"].views == []
    tab = next(w for w in tree(toy.widget) if w.__class__.__name__ == "ChartTabs")
    tab.selected_index = 1
    assert toy.charts["c"].views[-1].step == 5
    toy.frame(2)
    assert toy.charts["b"].views[-1].step == 5               # now hidden
    assert "step 7 / 50" in toy.counter.value


def test_keys_space_arrows_and_r(toy):
    toy.keys.press("ArrowRight")
    toy.keys.press("ArrowRight")
    assert toy.session.step == 2 and toy.shown == 2
    toy.keys.press("ArrowLeft")
    assert toy.shown == 1 and toy.session.step == 2          # scrubbed back, nothing run
    assert toy.charts["a"].views[-1].step == 1
    toy.keys.press("ArrowRight")                              # forward through the past
    assert toy.shown == 2 and toy.session.step == 2
    toy.keys.press("ArrowRight")                              # at the latest: a new step
    assert toy.session.step == 3
    toy.keys.press("r")
    assert toy.session.step == 0 and toy.shown == 0
    toy.keys.press("x")                                       # not a key of ours
    assert toy.session.step == 0


def test_key_messages_from_a_browser_are_dispatched_and_junk_ignored(toy):
    toy.keys._handle_custom_msg({"event": "descentlab-key", "key": "ArrowRight"}, [])
    assert toy.session.step == 1
    for junk in ({"event": "descentlab-key", "key": 7}, {"event": "other", "key": " "},
                 "text", None, {"event": "descentlab-key"}):
        toy.keys._handle_custom_msg(junk, [])
    assert toy.session.step == 1 and not toy.player.playing
    assert set(KEYS.values()) == {"toggle", "forward", "back", "reset"}


async def test_space_plays_and_pauses(toy):
    toy.player.fps = 120
    toy.keys.press(" ")
    await asyncio.sleep(0.1)
    assert toy.player.playing and toy.session.step > 0
    toy.keys.press(" ")
    await asyncio.sleep(0.05)
    assert not toy.player.playing and toy.player.task is None


async def test_runs_to_its_limit_and_says_so(toy):
    toy.player.fps = 120
    toy.player.speed = 10
    toy.player.play()
    for _ in range(100):
        await asyncio.sleep(0.01)
        if not toy.player.playing:
            break
    assert toy.session.step == 50 and toy.status.messages == ["done at 50"]


def test_export_writes_the_history(toy):
    toy.frame(3)
    assert toy.export.text().splitlines() == ["step,value", "0,0.0", "1,1.0", "2,2.0",
                                              "3,3.0"]


def test_a_scene_resets_to_its_settings_and_says_what_to_watch(toy):
    toy.frame(7)
    toy.apply_scene("short")
    assert toy.model.limit == 5 and toy.session.step == 0 and toy.player.speed == 2
    assert toy.session.horizon == 5 and "a short run: it stops at 5" in toy.status.messages
    toy.model.limit = 30
    toy.apply_scene("short")                 # again: from the app's defaults + the scene
    assert toy.model.limit == 5


def test_bad_scenes_keep_the_lab_as_it_was(toy):
    toy.frame(3)
    toy.apply_scene("nope")
    assert "scene must be one of short, broken; got 'nope'" in toy.errors.message
    toy.apply_scene("broken")
    assert "limit must be an integer in [1, 10000], got -1" in toy.errors.message
    assert toy.model.limit == 50 and toy.session.step == 3


def test_the_page_address_picks_scene_and_projector(toy):
    toy.keys._handle_custom_msg({"event": "descentlab-url",
                                 "search": "?scene=short&projector=1"}, [])
    assert toy.model.limit == 5
    assert "descentlab-projector" in toy.widget._dom_classes and toy._projector.value
    toy.set_projector(False)
    assert "descentlab-projector" not in toy.widget._dom_classes
    toy.keys._handle_custom_msg({"event": "descentlab-url", "search": "?" + "&".join(
        f"k{i}=1" for i in range(50))}, [])   # junk: ignored, nothing raised
    toy.keys._handle_custom_msg({"event": "descentlab-url", "search": 5}, [])
    assert toy.model.limit == 5


def test_projector_scales_figures_both_ways():
    import bqplot as bq
    import ipywidgets as W

    from descentlab.widgets.ui.figures import figure, project
    fig = figure([], [bq.Axis(scale=bq.LinearScale())], "t", width="400px", height="300px")
    root = W.VBox([W.HBox([fig])])
    project(root, True)
    project(root, True)                      # idempotent
    assert (fig.layout.width, fig.layout.height) == ("540px", "405px")
    project(root, False)
    assert (fig.layout.width, fig.layout.height) == ("400px", "300px")


def test_a_scene_is_applied_once_from_the_picker_and_from_code(toy):
    calls = []
    original = toy.reset

    def counting():
        calls.append(1)
        original()

    toy.reset = counting
    toy._scene_menu.value = "short"
    assert len(calls) == 1 and toy.scene == "short" and toy.model.limit == 5
    toy.apply_scene("short")
    assert len(calls) == 2 and toy._scene_menu.value == "short"


async def test_panels_are_redrawn_less_often_while_playing_and_at_once_on_pause(toy):
    panel = toy.panels["p"]
    assert toy._panels_later.interval == 0.25
    toy.player.fps = 40
    before = len(panel.views)
    toy.player.play()
    assert toy._panels_later.interval == 1.0
    await asyncio.sleep(0.8)
    assert toy.session.step > 10
    assert len(panel.views) - before <= 2   # the first frame, then at most once a second
    toy.player.pause()
    assert toy._panels_later.interval == 0.25
    assert panel.views[-1].step == toy.session.step == toy.shown   # pause: up to date
