"""Synthetic ledgers covering every rule kind the report must draw (ratio, same-law, slope regions), claims
answering reviewers' questions, and a power table with predicted power. A module of its own (not conftest,
whose name several folders share) so that tests can import it."""

import copy

from reports.power import rate


def comparison(label, estimate, ci, prediction, p_refute=0.5, p_equivalence=1e-4, n=1000):
    return {
        "label": label, "estimate": estimate, "ci": ci, "prediction": prediction, "statistic": 0.3,
        "p_refute": p_refute, "p_equivalence": p_equivalence, "n_samples": n,
    }  # fmt: skip


def example(width, depth, comparisons, seed=1, **extra):
    spec = {"kind": "vanilla", "input_dim": 3, "depth": depth, "width": width}
    drawn = {"spec": spec, "inputs": [[1.0, 0.0, 0.0]], **extra}
    return {"example": drawn, "seed": seed, "comparisons": comparisons}


def record(claim_id, verdict, examples, rule_spec, twin_of=None, decisive=None, decisive_example=0):
    first = examples[decisive_example]["comparisons"][0] if examples else comparison("x", 1.0, [0.9, 1.1], 1.0)
    chosen = next(c for c in examples[decisive_example]["comparisons"] if c["label"] == decisive) if decisive else first
    return {
        "id": claim_id, "twin_of": twin_of, "statement": f"statement of {claim_id} <b>escaped</b>",
        "citation": "Someone et al., 2021, Thm 1", "verdict": verdict, "estimate": chosen["estimate"],
        "ci": chosen["ci"], "prediction": chosen["prediction"], "decisive": chosen["label"],
        "decisive_example": decisive_example, "rule": "a rule in words", "rule_spec": rule_spec, "alpha": 0.01,
        "n_samples": 3000, "n_comparisons": 6, "seed": 42, "budget": "quick", "seconds": 1.5,
        "reproduce": f"pytest -p no:xdist 'tests/test_claims.py::test_claim[{claim_id}]'", "examples": examples,
    }  # fmt: skip


def make_ledger():
    ratio = [
        example(w, d, [comparison("W0", 1.0 + 0.01 * w, [0.95, 1.1], 1.0), comparison("Wout", 0.98, [0.9, 1.05], 1.0)])
        for w, d in ((8, 1), (16, 2), (32, 3))
    ]
    same_law = [
        example(w, 2, [
            comparison("f: KS", 0.004, ["nan", "nan"], 0.0, p_equivalence=0.0),
            comparison("f: mean", 0.01, [-0.02, 0.03], 0.0),
            comparison("f: variance", 1.02, [0.95, 1.1], 1.0),
        ]) for w in (8, 12)
    ]  # fmt: skip
    slopes = [
        example(16, d, [comparison("log eta slope", -0.5 + 0.01 * d, [-0.6, -0.4], -0.5)], widths=[16, 64, 256])
        for d in (1, 2, 3)
    ]
    one_sided = [example(16, 1, [comparison("growth", 2.0, [1.5, "inf"], 0.0)])]
    claims = [
        record("paper.ratio", "supported", ratio, {"name": "RatioOfMeans", "margin": 0.1}),
        record(
            "paper.ratio.twin",
            "refuted",
            copy.deepcopy(ratio),
            {"name": "RatioOfMeans", "margin": 0.1},
            twin_of="paper.ratio",
        ),
        record(
            "tool.same-law",
            "supported",
            same_law,
            {"name": "SameLaw", "margin": 0.1, "variance_margin": 0.15},
            decisive="f: variance",
            decisive_example=1,
        ),
        record(
            "paper.slope",
            "supported",
            slopes,
            {
                "name": "InRegion",
                "low": -0.1,
                "high": 0.1,
                "tolerance": 0.0,
                "quantity": "slope of log eta on log width",
            },
        ),
        record("paper.growth", "supported", one_sided, {"name": "InRegion", "low": 0.0, "high": "inf", "tolerance": 0}),
        record("paper.unknown-rule", "inconclusive", copy.deepcopy(slopes), {"name": "SomethingNew"}),
    ]
    run = {
        "seed": 0, "budget": "quick", "device": "cpu", "sampler": "auto", "strict": True, "workers": 2,
        "platform": "Linux", "versions": {"python": "3.11", "torch": "2.13.0+cpu"},
    }  # fmt: skip
    return {"run": run, "claims": claims}


def with_review_claims(ledger):
    """``ledger`` with a claim answering a reviewer's question (id with ``.review.``) and its twin."""
    review = copy.deepcopy(next(c for c in ledger["claims"] if c["id"] == "paper.ratio"))
    twin = {**copy.deepcopy(review), "id": "paper2020.review.attention.twin", "verdict": "refuted",
            "twin_of": "paper2020.review.attention"}  # fmt: skip
    return {**ledger, "claims": [*ledger["claims"], {**review, "id": "paper2020.review.attention"}, twin]}


def make_power():
    """A power table with predicted power and the suite-wide error rate (paper.slope misses its prediction)."""

    def row(claim_id, twin_of, k, predicted):
        wanted = "refuted" if twin_of else "supported"
        observed, ci = rate(k, 20, 0.95)
        return {
            "id": claim_id, "twin_of": twin_of, "alpha": 0.01, "wanted": wanted, "n_seeds": 20,
            "counts": {"supported": k, "inconclusive": 20 - k, "refuted": 0} if not twin_of else
                      {"supported": 0, "inconclusive": 20 - k, "refuted": k},
            "rate": observed, "ci": ci, "status": "consistent with target (more seeds needed)",
            "error_rate": {"verdict": "x", "rate": 0.0, "ci": [0.0, 0.17], "status": "consistent with alpha"},
            "predicted_power": predicted,
        }  # fmt: skip

    # paper.slope: 9/20 [0.23, 0.68] misses its predicted 0.9
    claims = [row("paper.ratio", None, 20, 0.998), row("paper.ratio.twin", "paper.ratio", 19, 0.97),
              row("paper.slope", None, 9, 0.9)]  # fmt: skip
    suite = {
        "true_claims": 2, "bound_bonferroni": 0.02, "bound_from_rates": 0.0, "bound_from_rate_intervals": 0.34,
        "any_true_refuted": {"claims": 2, "seeds": 20, "count": 0, "rate": 0.0, "ci": [0.0, 0.168], "seeds_hit": []},
        "any_twin_supported": {"claims": 1, "seeds": 20, "count": 1, "rate": 0.05, "ci": [0.001, 0.249],
                               "seeds_hit": [7]},
    }  # fmt: skip
    run = {"seeds": list(range(1, 21)), "budget": "quick", "device": "cpu", "target": 0.95, "confidence": 0.95}
    return {"run": run, "suite": suite, "claims": claims}
