"""`unionhall experiment design|analyze|list`: field experiments at the command line,
as a named account (its scope decides whom the experiment holds and counts)."""

from __future__ import annotations

import datetime as dt
import json as jsonlib
from typing import Annotated, Any

import typer

from unionhall.errors import UserError

experiment_app = typer.Typer(help="Field experiments: randomize a saved list, analyze the results.",
                             no_args_is_help=True)


def _account(name: str) -> Any:
    from django.contrib.auth import get_user_model

    account = get_user_model().objects.filter(username=name).first()
    if account is None:
        raise UserError(f"no user named {name!r}: check the spelling")
    return account


def _csv(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


def _shares(text: str) -> list[float] | None:
    try:
        return [float(s) for s in _csv(text)] or None
    except ValueError:
        raise UserError(f"--shares {text!r}: write numbers separated by commas, e.g. 0.5,0.5") from None


def _day(text: str | None, flag: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{flag} {text!r} is not a date (YYYY-MM-DD)") from None


def design_lines(exp: Any) -> list[str]:
    """The design in a few lines: counts by arm, balance, MDE."""
    d = exp.design
    blocks = f"{d['blocks']} blocks by {d['block_by']}" if d.get("block_by") else "no blocks"
    homes = "households kept together" if d.get("cluster_households") else "persons assigned one by one"
    lines = [f"experiment {exp.pk} {exp.name!r} on list {d.get('list', exp.saved_list_id)!r} "
             f"v{exp.list_version}: {d['persons']:,} persons, {d['households']:,} households, {blocks}, {homes}, "
             f"seed {d['seed']}",
             f"  {'arm':<14} {'share':>6} {'persons':>9} {'households':>11}"]
    for c, share in zip(d["counts"], d["shares"], strict=False):
        lines.append(f"  {c['arm']:<14} {share:>6.3f} {c['persons']:>9,} {c['households']:>11,}")
    arms = d["arms"]
    lines.append(f"  {'balance':<16}" + "  ".join(f"{a:>9}" for a in arms) + "  " +
                 "  ".join(f"{'std ' + a:>12}" for a in arms[1:]))
    for r in d["balance"]:
        cells = "  ".join(f"{v:>9.3f}" if v is not None else f"{'-':>9}" for v in r["means"])
        diffs = "  ".join(f"{v:>12.3f}" if v is not None else f"{'-':>12}" for v in r["std_diffs"])
        lines.append(f"  {r['covariate']:<16}{cells}  {diffs}")
    p = d["power"]
    for m in p["mde"]:
        lines.append(f"  MDE {m['arm']} vs control (80% power, 5% two-sided, base turnout {p['base_rate']:.1%}): "
                     f"{100 * m['itt']:.2f} pts assigned, {100 * m['cace']:.2f} pts on the contacted at "
                     f"{p['contact_rate']:.0%} contact (design effect {m['design_effect']:.2f})")
    return lines


def results_lines(results: dict[str, Any]) -> list[str]:
    """ITT and CACE with SE, 95% CI, p; contact rates by arm."""
    fe = ", block fixed effects" if results.get("block_effects") else ""
    lines = [f"outcome {results['outcome']}: {results['n']:,} persons, {results['clusters']:,} clusters{fe} "
             "(effects in percentage points; SE clustered by household, CR1)",
             f"  {'':<6} {'arm':<12} {'effect':>8} {'SE':>7} {'95% CI':>17} {'p':>8} {'control':>8} {'N':>7}"]
    for e in [*results["itt"], *results["cace"]]:
        ci = f"{100 * e['ci_low']:.2f} to {100 * e['ci_high']:.2f}"
        lines.append(f"  {e['estimator']:<6} {e['arm']:<12} {100 * e['estimate']:>8.2f} {100 * e['se']:>7.2f} "
                     f"{ci:>17} {e['p_value']:>8.4f} {100 * e['control_mean']:>7.1f}% {e['n']:>7,}")
    lines.extend(f"  note: {n}" for n in results.get("notes", []))
    lines.append(f"  {'arm':<12} {'persons':>8} {'contacted':>10} {'rate':>7} {'outcome':>8}")
    for c in results["compliance"]:
        lines.append(f"  {c['arm']:<12} {c['n']:>8,} {c['contacted']:>10,} {c['contact_rate']:>7.1%} "
                     f"{c['outcome_mean']:>8.1%}")
    return lines


@experiment_app.command("design")
def design(
    list_id: Annotated[int, typer.Option("--list", help="The saved list's number.")],
    user: Annotated[str, typer.Option("--user", help="Design as this account: the persons it sees are assigned.")],
    name: Annotated[str, typer.Option("--name", help="The experiment's name.")],
    arms: Annotated[str, typer.Option("--arms", help="Comma-separated arms, one named control.")] = "control,treatment",
    shares: Annotated[str, typer.Option("--shares", help="Comma-separated shares in the arms' order (default: equal).")] = "",
    block_by: Annotated[str, typer.Option("--block-by", help="Person column to block on (e.g. precinct).")] = "",
    households: Annotated[bool, typer.Option("--households/--persons",
                                             help="Keep households together (default) or assign persons.")] = True,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed (default: drawn and kept).")] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the design as one JSON object.")] = False,
) -> None:
    """Randomize a saved list into arms: counts, balance table and MDE."""
    from unionhall.cli._runtime import out_console, setup_django

    setup_django()
    from unionhall.analytics.experiments import experiment_create
    from unionhall.field.models import SavedList

    account = _account(user)
    saved = SavedList.objects.filter(pk=list_id).select_related("committee").first()
    if saved is None:
        raise UserError(f"no saved list {list_id}: check the number (the list page's address has it)")
    exp = experiment_create(user=account, saved_list=saved, name=name, arms=_csv(arms), shares=_shares(shares),
                            block_by=block_by or None, cluster_households=households, seed=seed)
    if json:
        print(jsonlib.dumps({"experiment": exp.pk, "name": exp.name, **exp.design}))
        return
    for line in design_lines(exp):
        out_console.print(line, markup=False, highlight=False)


@experiment_app.command("analyze")
def analyze(
    experiment: Annotated[int, typer.Argument(help="The experiment's number.")],
    user: Annotated[str, typer.Option("--user", help="Analyze as this account (its scope).")],
    outcome: Annotated[str, typer.Option("--outcome", help="voted:YYYY-MM-DD or survey:QUESTION=RESPONSE")],
    since: Annotated[str | None, typer.Option("--since", help="Count contacts from this day (default: the design).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Count contacts until this day.")] = None,
    block_effects: Annotated[bool, typer.Option("--block-effects", help="Add block fixed effects.")] = False,
    json: Annotated[bool, typer.Option("--json", help="Print the results as one JSON object.")] = False,
) -> None:
    """ITT and CACE of each arm against control, with household-clustered errors."""
    from unionhall.cli._runtime import out_console, setup_django

    setup_django()
    from unionhall.analytics.experiments import experiment_analyze, experiment_get

    account = _account(user)
    exp = experiment_get(user=account, pk=experiment)
    results = experiment_analyze(user=account, experiment=exp, outcome=outcome, since=_day(since, "--since"),
                                 until=_day(until, "--until"), block_effects=block_effects)
    if json:
        print(jsonlib.dumps({"experiment": exp.pk, **results}))
        return
    for line in results_lines(results):
        out_console.print(line, markup=False, highlight=False)


@experiment_app.command("list")
def list_(
    user: Annotated[str, typer.Option("--user", help="List as this account: its committees' experiments.")],
) -> None:
    """The experiments of the account's committees."""
    from unionhall.cli._runtime import out_console, setup_django

    setup_django()
    from unionhall.analytics.experiments import experiments_visible

    rows = list(experiments_visible(_account(user))[:200])
    if not rows:
        out_console.print("no experiments yet")
    for e in rows:
        out_console.print(f"{e.pk:>6}  {e.name:<30} {e.committee.name:<24} {e.get_status_display():<20} "
                          f"{e.design.get('persons', 0):>8,} persons  {', '.join(e.design.get('arms', []))}",
                          markup=False, highlight=False)


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    del import_app
    app.add_typer(experiment_app, name="experiment")
