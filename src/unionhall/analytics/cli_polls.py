"""Poll commands: `unionhall import poll FILE` (respondents in, rejected rows counted by
reason), `unionhall poll rake ID` (weights raked to voter-file or member-file margins,
target against achieved printed) and `unionhall poll topline ID` (shares with margins
of error, or a crosstab with --by), `unionhall poll list`."""

from __future__ import annotations

import json as jsonlib
import math
from pathlib import Path
from typing import Annotated, Any

import typer

from unionhall.errors import UserError

poll_app = typer.Typer(help="Polls: weight them and read their toplines and crosstabs.", no_args_is_help=True)


def _user(name: str | None) -> Any:
    if name is None:
        return None
    from django.contrib.auth import get_user_model

    found = get_user_model().objects.filter(username=name).first()
    if found is None:
        raise UserError(f"no user named {name!r}: check the spelling")
    return found


def _committee(text: str) -> Any:
    from django.db.models import Q

    from unionhall.access.models import Committee

    t = text.strip()
    q = Q(name__iexact=t) | Q(source_slug__iexact=t)
    if t.isdigit():
        q |= Q(pk=int(t))
    found = Committee.objects.filter(q).first()
    if found is None:
        names = ", ".join(Committee.objects.order_by("name").values_list("name", flat=True)[:20]) or "none yet"
        raise UserError(f"no committee {text!r} (give its name, its source slug or its id); committees: {names}")
    return found


def _poll(poll_id: int, user: Any) -> Any:
    from unionhall.analytics.models import Poll
    from unionhall.analytics.polls import poll_get

    try:
        return poll_get(user=user, poll_id=poll_id) if user is not None else Poll.objects.get(pk=poll_id)
    except Poll.DoesNotExist:
        raise UserError(f"no poll {poll_id}{' that ' + user.get_username() + ' may see' if user else ''}: "
                        "`unionhall poll list` shows them") from None


def import_poll(
    file: Annotated[Path, typer.Argument(help="The pollster's respondent file (CSV, TSV, XLSX; any encoding).")],
    committee: Annotated[str, typer.Option("--committee", help="The committee the poll belongs to (name or slug).")],
    user: Annotated[str, typer.Option("--user", help="The analyst importing it (who may see it is their business).")],
    name: Annotated[str | None, typer.Option("--name", help="The poll's name (default: the file's name).")] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the counts as one JSON object.")] = False,
) -> None:
    """Import a poll: every row a respondent or a rejected row with its reason."""
    from unionhall.cli._runtime import out_console, setup_django

    if not file.is_file():
        raise UserError(f"{file}: file not found; check the path")
    setup_django()
    from unionhall.analytics.polls import poll_import

    account = _user(user)
    out = poll_import(user=account, committee=_committee(committee), path=file, name=name or file.stem)
    result: dict[str, Any] = {"poll_id": out.poll.pk, "file": file.name, "rows_read": out.rows_read, "respondents": out.respondents,
              "rejected": out.rejected, "rejected_by_code": out.by_code, "questions": [
                  q["name"] for q in out.poll.detail["questions"]], "variables": list(out.poll.detail["variables"])}
    if json:
        print(jsonlib.dumps(result))
        return
    codes = ", ".join(f"{c} {n:,}" for c, n in out.by_code.items())
    out_console.print("\n".join([
        f"{file.name} → poll {out.poll.pk} ({out.poll.name}, {out.poll.committee.name})",
        f"  {'rows read':<16}{out.rows_read:>8,}",
        f"  {'respondents':<16}{out.respondents:>8,}",
        f"  {'rejected':<16}{out.rejected:>8,}" + (f"   ({codes})" if codes else ""),
        f"  {out.rows_read:,} read = {out.respondents:,} respondents + {out.rejected:,} rejected ✓",
        f"  weighting variables: {', '.join(result['variables']) or 'none'}; questions: {len(result['questions'])}",
    ]), highlight=False, markup=False)


@poll_app.command("list")
def poll_list(user: Annotated[str | None, typer.Option("--user", help="Only the polls this user may see.")] = None,
              ) -> None:
    """The polls, newest first."""
    from unionhall.cli._runtime import out_console, setup_django

    setup_django()
    from unionhall.analytics.models import Poll
    from unionhall.analytics.polls import polls_visible

    account = _user(user)
    polls = polls_visible(user=account) if account is not None else Poll.objects.select_related("committee")
    for p in polls[:200]:
        w = p.detail.get("weighting")
        out_console.print(f"{p.pk:>5}  {p.name}  ({p.committee.name}): {p.respondents:,} respondents, "
                          f"{p.rejected:,} rejected; " + (f"weighted on {', '.join(w['by'])}" if w else "unweighted"),
                          highlight=False, markup=False)


def _finite(x: Any) -> Any:
    """NaN (a crosstab row nobody answered) as null: JSON has no NaN."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_finite(v) for v in x]
    return x


def _pct(x: float) -> str:
    return "     " if math.isnan(x) else f"{100 * x:5.1f}"


@poll_app.command("rake")
def poll_rake_command(
    poll_id: Annotated[int, typer.Argument(help="The poll's id.")],
    by: Annotated[str, typer.Option("--by", help="Variables, comma-separated: county, sex, age_band, party, member.")],
    user: Annotated[str, typer.Option("--user", help="Margins are read through this user's scope.")],
    universe: Annotated[str, typer.Option("--universe", help="voters, or members:SOURCE.")] = "voters",
    low: Annotated[float | None, typer.Option("--low", help="Lowest weight, times the base weight.")] = None,
    high: Annotated[float | None, typer.Option("--high", help="Highest weight, times the base weight.")] = None,
    max_iter: Annotated[int, typer.Option("--max-iter", help="Raking iterations at most.")] = 100,
    json: Annotated[bool, typer.Option("--json", help="Print the weighting report as JSON.")] = False,
) -> None:
    """Rake a poll's weights to the margins of a universe in the user's scope."""
    from unionhall.cli._runtime import out_console, setup_django

    setup_django()
    from unionhall.analytics.polls import poll_rake

    account = _user(user)
    poll = _poll(poll_id, account)
    bounds = None if low is None and high is None else (low or 1e-4, high or 1e9)
    report = poll_rake(user=account, poll=poll, by=by.split(","), universe=universe, bounds=bounds,
                       max_iter=max_iter)
    if json:
        print(jsonlib.dumps(_finite(report)))
        return
    lines = [f"poll {poll.pk} weighted on {', '.join(report['by'])} to {report['universe']} "
             f"({report['iterations']} iterations): design effect {report['deff']:.2f}, effective n "
             f"{report['effective_n']:,.0f} of {poll.respondents:,}",
             f"  {'variable':<10}{'category':<16}{'n':>6}{'unweighted':>12}{'target':>9}{'weighted':>10}"]
    for m in report["margins"]:
        lines.append(f"  {m['variable']:<10}{m['category']:<16}{m['n']:>6}{_pct(m['unweighted']):>12}"
                     f"{_pct(m['target']):>9}{_pct(m['achieved']):>10}")
    out_console.print("\n".join(lines), highlight=False, markup=False)


@poll_app.command("topline")
def poll_topline_command(
    poll_id: Annotated[int, typer.Argument(help="The poll's id.")],
    by: Annotated[str | None, typer.Option("--by", help="A crosstab by this variable or question.")] = None,
    question: Annotated[list[str] | None, typer.Option("--question", help="Only this question (repeatable).")] = None,
    user: Annotated[str | None, typer.Option("--user", help="As this user (default: the operator).")] = None,
    unweighted: Annotated[bool, typer.Option("--unweighted", help="With the base weights.")] = False,
    json: Annotated[bool, typer.Option("--json", help="Print the estimates as JSON.")] = False,
) -> None:
    """Weighted shares of each answer with 95% margins of error, or a crosstab."""
    from unionhall.cli._runtime import out_console, setup_django

    setup_django()
    from unionhall.analytics.polls import poll_topline

    account = _user(user)
    poll = _poll(poll_id, account)
    results = poll_topline(user=account, poll=poll, by=by, questions=question or None, weighted=not unweighted)
    if json:
        print(jsonlib.dumps(_finite({"poll_id": poll.pk, "weighted": not unweighted,
                                     "results": [r.as_dict() for r in results]})))
        return
    lines = []
    for r in results:
        lines.append(f"{r.question}" + (f" by {r.by}" if r.by else "") +
                     f"  (design effect {r.deff:.2f}, effective n {r.effective_n:,.0f})")
        for t in r.tables:
            if r.by:
                lines.append(f"  {t.domain} (n={t.n})")
            for s in t.shares:
                lines.append(f"    {s.category:<24}{_pct(s.share)}%  ±{100 * s.moe:4.1f}  n={s.n}")
    out_console.print("\n".join(lines), highlight=False, markup=False)


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    import_app.command("poll")(import_poll)
    app.add_typer(poll_app, name="poll")
