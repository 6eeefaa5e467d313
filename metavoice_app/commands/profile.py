"""``metavoice profile``: manage the voice library from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from metavoice_app.commands.common import add_device_option, runs_on_cpu_only
from metavoice_app.core.adapt.config import AdaptConfig
from metavoice_app.core.paths import AppPaths


def _model_fit(model_dir: Path | None) -> tuple[str, dict[str, tuple[int, ...]]]:
    """The id, and the parameter names and shapes, of the model an imported voice must
    fit: built from the model's config alone, since only names and shapes are compared
    (no weights are read)."""
    from metavoice_app.core.model.acoustic import AcousticModel
    from metavoice_app.core.model.checkpoint import read_info
    from metavoice_app.core.model.voice import allowed_shapes
    from metavoice_app.core.synth.engine import bundled_model_dir

    info = read_info(model_dir or bundled_model_dir())
    return info.model_id, allowed_shapes(AcousticModel(info.config))


def _rebuild(args: argparse.Namespace, paths: AppPaths) -> None:
    """Re-create a voice made for another model on this one, from its kept takes."""
    from metavoice_app.core.adapt.adapter import AdaptStep
    from metavoice_app.core.adapt.clone import recreate_voice
    from metavoice_app.core.profiles.library import VoiceLibrary
    from metavoice_app.core.progress import Progress, ProgressSink
    from metavoice_app.core.synth.engine import SpeechEngine

    library = VoiceLibrary(paths.voices_dir)
    path = library.find(args.voice)
    engine = SpeechEngine(args.model, device=getattr(args, "device", None) or "auto")

    def report(progress: Progress) -> None:
        p = progress.detail
        assert isinstance(p, AdaptStep)  # adaptation reports only its steps
        print(f"[{p.step:>3}/{p.steps}] loss {p.loss:.3f}", file=sys.stderr, flush=True)

    cloned = recreate_voice(
        engine, library, path, AdaptConfig(steps=args.steps), ProgressSink(report)
    )
    similarity = cloned.manifest.similarity
    said = "" if similarity is None else f", similarity {similarity:.2f}"
    print(
        f"re-created '{cloned.manifest.name}' for this model from {cloned.manifest.takes} "
        f"takes{said}: {cloned.path} (the old profile is in the library's trash)"
    )


def _run(args: argparse.Namespace, paths: AppPaths) -> int:
    from metavoice_app.core.adapt.adapter import AdaptationError
    from metavoice_app.core.model.checkpoint import ModelLoadError
    from metavoice_app.core.profiles.library import VoiceLibrary
    from metavoice_app.core.profiles.mvoice import ProfileError, read_profile

    library = VoiceLibrary(paths.voices_dir)
    try:
        if args.action == "list":
            entries = library.entries()
            if not entries:
                print(f"no voices yet in {paths.voices_dir}")
            for entry in entries:
                if entry.manifest is None:
                    print(f"{entry.path.name}\tUNUSABLE: {entry.problem}")
                    continue
                m = entry.manifest
                similarity = "-" if m.similarity is None else f"{m.similarity:.2f}"
                kept = "takes kept" if entry.takes_kept else "no takes kept"
                print(
                    f"{m.name}\t{m.created[:10]}\t{m.takes} takes\tsimilarity {similarity}"
                    f"\t{kept}\tmodel {m.base_model_id[:8]}\t{entry.path.name}"
                )
        elif args.action == "show":
            profile = read_profile(library.find(args.voice))
            m = profile.manifest
            has_takes = library.has_takes(m.id)
            print(f"name:        {m.name}\nid:          {m.id}\ncreated:     {m.created}")
            print(
                f"base model:  {m.base_model_id[:12]}\ntakes:       {m.takes} "
                f"({'kept in the library' if has_takes else 'not kept: it cannot be re-created'})"
            )
            print(f"similarity:  {m.similarity if m.similarity is not None else '-'}")
            print(f"recipe:      {m.recipe}")
            print(
                f"consent:     {m.consent.speaker_name}, {m.consent.recorded_at}: "
                f'"{m.consent.statement}"'
            )
            size = sum(t.numel() for t in profile.tensors.values())
            print(f"parameters:  {size} in {len(profile.tensors)} tensors")
        elif args.action == "import":
            try:
                model_id, shapes = _model_fit(args.model)
            except ModelLoadError as exc:
                raise ProfileError(
                    f"cannot check {args.file.name} against the model: {exc}"
                ) from exc
            target = library.add(args.file, model_id, shapes)
            print(f"imported {args.file.name} as {target}")
            if read_profile(target).manifest.base_model_id != model_id:
                print(
                    "it was made for another model; `metavoice profile rebuild` re-creates "
                    "it for this one from the takes it carried"
                )
        elif args.action == "export":
            print(library.export(library.find(args.voice), args.destination, args.with_takes))
        elif args.action == "rebuild":
            _rebuild(args, paths)
        elif args.action == "rename":
            print(library.rename(library.find(args.voice), args.new_name))
        elif args.action == "delete":
            trashed = library.delete(library.find(args.voice))
            print(f"moved to {trashed} (move it back to restore the voice)")
        return 0
    except (ProfileError, OSError, AdaptationError, ModelLoadError) as exc:
        print(f"metavoice profile {args.action}: {exc}", file=sys.stderr)
        return 1


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "profile",
        help="list, show, import, export, rename, delete and rebuild voice profiles",
        description="Manage the .mvoice voice profiles in your library.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="list the voices in the library")
    show = actions.add_parser("show", help="show a voice's details and consent record")
    show.add_argument("voice", help="voice name, id prefix or .mvoice path")
    add = actions.add_parser(
        "import", help="validate and add a .mvoice file made for the model in use"
    )
    add.add_argument("file", type=Path)
    add.add_argument(
        "--model",
        type=Path,
        help="the model folder the voice must fit (default: the bundled model)",
    )
    out = actions.add_parser("export", help="copy a voice to a file or folder to share it")
    out.add_argument("voice")
    out.add_argument("destination", type=Path)
    out.add_argument(
        "--with-takes",
        action="store_true",
        help="include the recordings the voice was learned from (your own voice banking, or "
        "moving to a new installation where the voice is re-created for its model)",
    )
    rebuild = actions.add_parser(
        "rebuild",
        help="re-create a voice made for another model on this one, from its kept takes",
        description="Learn the voice again on the model in use from the takes kept with it "
        "in the library; the new profile keeps its name, id and consent record, and the old "
        "one goes to the library's trash.",
    )
    rebuild.add_argument("voice", help="voice name, id prefix or .mvoice path")
    rebuild.add_argument(
        "--steps",
        type=int,
        default=AdaptConfig().steps,
        help="the most adaptation steps (default %(default)s)",
    )
    rebuild.add_argument("--model", type=Path, help="model folder (default: the bundled model)")
    add_device_option(rebuild)
    rename = actions.add_parser("rename", help="rename a voice")
    rename.add_argument("voice")
    rename.add_argument("new_name")
    delete = actions.add_parser("delete", help="move a voice to the library's trash")
    delete.add_argument("voice")
    for name, action in actions.choices.items():
        action.set_defaults(handler=_run)
        if name != "rebuild":  # the one action that runs the model
            runs_on_cpu_only(action)
