"""`unionhall model train|list|card` and `unionhall impute`: targeting models and
imputation at the command line, as a named account (its scope is the model's)."""

from __future__ import annotations

import json as jsonlib
from typing import Annotated, Any

import typer

from unionhall.errors import UserError

model_app = typer.Typer(help="Targeting models: train, list, show a model card.", no_args_is_help=True)


def _account(name: str) -> Any:
    from django.contrib.auth import get_user_model

    account = get_user_model().objects.filter(username=name).first()
    if account is None:
        raise UserError(f"no user named {name!r}: check the spelling")
    return account


def _committee(name: str) -> Any:
    from unionhall.access.models import Committee

    found = Committee.objects.filter(name__iexact=name.strip()).first()
    if found is None:
        names = ", ".join(Committee.objects.order_by("name").values_list("name", flat=True)[:20]) or "none yet"
        raise UserError(f"no committee named {name!r}; committees: {names}")
    return found


def card_lines(card: dict[str, Any]) -> list[str]:
    """A model card in a few lines: what, judged how, against what."""
    ev, data = card["evaluation"], card["data"]
    lines = [f"{card.get('name', '')} [{card['kind']}] → slot {card.get('slot', '')!r}, "
             f"{card.get('scored', 0):,} people scored"]
    if card["kind"] == "turnout":
        lines.append(f"  learned from the {data['trained_on']} general ({data['train_n']:,} voters), "
                     f"judged on the {data['heldout']} general ({data['heldout_n']:,} voters, "
                     f"turnout {ev['rate']:.1%})")
    else:
        lines.append(f"  learned {data['question']}={data['response']} from {data['train_n']:,} answers, "
                     f"judged on {data['heldout_n']:,} held out")
    lines.append(f"  held-out AUC {ev['auc']:.3f}   baseline ({ev['baseline']['name']}) {ev['baseline']['auc']:.3f}"
                 f"   Brier {ev['brier']:.3f}   calibration error {ev['calibration_error']:.3f}")
    top, bottom = ev["lift"][0], ev["lift"][-1]
    lines.append(f"  top decile {top['rate']:.1%} ({top['lift']:.2f}x)   bottom decile {bottom['rate']:.1%} "
                 f"({bottom['lift']:.2f}x)")
    lines.append("  top features: " + ", ".join(f"{f['feature']} {f['share']:.0%}" for f in card["features"][:5]))
    return lines


def train(
    kind: Annotated[str, typer.Option("--kind", help="turnout or support")],
    committee: Annotated[str, typer.Option("--committee", help="The committee that owns the slot (its name).")],
    user: Annotated[str, typer.Option("--user", help="Train as this account: its scope is the model's.")],
    slot: Annotated[str, typer.Option("--slot", help="Score slot to fill, e.g. turnout")] = "",
    name: Annotated[str, typer.Option("--name", help="A name for the model.")] = "",
    heldout: Annotated[str | None, typer.Option("--heldout", help="Turnout: the general to judge on (YYYY-MM-DD; "
                                                                  "default the latest).")] = None,
    question: Annotated[str | None, typer.Option("--question", help="Support: the survey question code.")] = None,
    response: Annotated[str | None, typer.Option("--response", help="Support: the answer to predict.")] = None,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    json: Annotated[bool, typer.Option("--json", help="Print the model card as JSON.")] = False,
) -> None:
    """Train a model, judge it on held-out people (turnout: a later election), score
    everyone the account may see into the slot, and print its card."""
    from unionhall.cli._runtime import out_console, run_job_foreground, setup_django

    setup_django()
    from unionhall.analytics.models import ScoreModel
    from unionhall.analytics.services import model_train_submit

    target: dict[str, Any] = {"heldout": heldout} if kind == "turnout" and heldout else {}
    if kind == "support":
        target = {"question": question or "", "response": response or ""}
    m = model_train_submit(user=_account(user), committee=_committee(committee), kind=kind,
                           name=name or f"{kind.title()} model", slot=slot or kind, target=target, seed=seed)
    run_job_foreground("analytics.train_model", job=m.job, quiet=json)
    m = ScoreModel.objects.get(pk=m.pk)
    if json:
        print(jsonlib.dumps({"model_id": m.pk, **m.card}))
        return
    out_console.print("\n".join([f"model {m.pk}: " + card_lines(m.card)[0], *card_lines(m.card)[1:]]),
                      highlight=False)


def list_models(
    user: Annotated[str, typer.Option("--user", help="List the models of this account's committees.")],
) -> None:
    """The models of the account's committees, newest first."""
    from unionhall.cli._runtime import out_console, setup_django

    setup_django()
    from unionhall.analytics.services import models_visible

    rows = list(models_visible(_account(user))[:50])
    if not rows:
        out_console.print("no models yet: `unionhall model train --kind turnout ...`")
    for m in rows:
        auc = m.card.get("evaluation", {}).get("auc")
        out_console.print(f"{m.pk:>5}  {m.slot:<14} {m.get_status_display():<16} {m.committee.name:<28} "
                          f"{'AUC ' + format(auc, '.3f') if auc else '':<10} {m.name}", highlight=False)


def card(
    model_id: Annotated[int, typer.Argument(help="The model's number (see `unionhall model list`).")],
    user: Annotated[str, typer.Option("--user", help="As this account (it must see the model's committee).")],
    json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Print a model card."""
    from unionhall.cli._runtime import out_console, setup_django

    setup_django()
    from unionhall.analytics.services import model_get

    m = model_get(_account(user), model_id)
    if not m.card:
        raise UserError(f"model {m.pk} has no card yet ({m.get_status_display()})")
    if json:
        print(jsonlib.dumps(m.card))
        return
    out_console.print("\n".join(card_lines(m.card)), highlight=False)


def impute(
    user: Annotated[str, typer.Option("--user", help="Impute for the people this account may see.")],
    json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Impute race/ethnicity (BISG: surname and ZIP) and age bands, each with its
    probability, for everyone the account may see; print how they were judged."""
    from unionhall.cli._runtime import out_console, run_job_foreground, setup_django

    setup_django()
    job = run_job_foreground("analytics.impute", {}, user=_account(user), quiet=json)
    r = job.result
    if json:
        print(jsonlib.dumps(r))
        return
    methods = ", ".join(f"{k} {v:,}" for k, v in sorted(r["race_by_method"].items()))
    ages = ", ".join(f"{k} {v:,}" for k, v in sorted(r["age_imputed_by_method"].items())) or "none needed"
    out_console.print("\n".join([
        f"{r['persons']:,} people: race/ethnicity by {methods}",
        f"  most probable group = self-reported race on the voter file for {r['race_agreement_bisg']:.1%} of "
        f"{r['race_checked']:,} (surname alone: {r['race_agreement_surname']:.1%})",
        f"  age bands imputed: {ages}; held-out accuracy {r['age_accuracy']:.1%} "
        f"(always the most common band: {r['age_baseline_accuracy']:.1%})",
    ]), highlight=False)


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    del import_app
    model_app.command("train")(train)
    model_app.command("list")(list_models)
    model_app.command("card")(card)
    app.add_typer(model_app, name="model")
    app.command("impute")(impute)
