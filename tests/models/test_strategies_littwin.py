"""The Littwin claims' Hypothesis strategies draw what their docstrings say."""

import math

from hypothesis import find, given, settings

from models import DenseNet, LittwinResNet
from models.reduced import ConnectionGraph
from models.strategies_eta import (
    alpha_ratio,
    alpha_sum,
    densenet_alpha_sweeps,
    resnet_bound_cases,
    vanilla_ratio_sweeps,
)
from models.strategies_littwin import littwin_densenets, littwin_resnets


@settings(max_examples=40, deadline=None)
@given(littwin_resnets())
def test_resnets_respect_the_depth_over_width_bound(spec):
    widths = spec.widths[:-1] if isinstance(spec, ConnectionGraph) else (spec.width, spec.branch_width)
    blocks = sum(1 for e in spec.edges if not e[0]) if isinstance(spec, ConnectionGraph) else spec.blocks
    depth = (len(spec.weight_shapes()) - 2) // blocks
    assert blocks * depth / min(widths) <= 0.15 + 1e-12


def test_per_layer_widths_are_drawn():
    """Some drawn ResNet graphs have unequal branch widths, some DenseNet graphs unequal layer widths."""
    def varied(spec):
        return isinstance(spec, ConnectionGraph) and len(set(spec.widths[:-1])) > 1

    for strategy in (littwin_resnets(), littwin_densenets()):
        assert varied(find(strategy, varied, settings=settings(database=None, max_examples=200)))


@settings(max_examples=20, deadline=None)
@given(resnet_bound_cases())
def test_bound_cases_hold_both_extremes_and_an_r_equal_one_fresh_net(case):
    extreme, lowest, _ = case.calibration
    assert extreme.blocks == 8 and extreme.alphas == (1.0,) * 8 and alpha_sum(extreme) == 4.0
    assert lowest.blocks == 1 and lowest.alphas == (0.05,) and alpha_ratio(lowest) == 1.0
    assert case.fresh[0].blocks == 1 and case.fresh[1].blocks == 2
    assert all(isinstance(s, LittwinResNet) and s.width == extreme.width for s in case.fresh)
    assert all(alpha_sum(s) <= 4.0 and all(0.05 <= a <= 1.0 for a in s.alphas) for s in case.fresh)


@settings(max_examples=20, deadline=None)
@given(vanilla_ratio_sweeps(ratios=(0.04, 0.07, 0.10, 0.13, 0.16, 0.19), two_inputs=True))
def test_paper_input_sweeps_use_input_dim_n_and_skip_depth_one(sweep):
    width = sweep.specs[0].widths[0]
    assert all(s.input_dim == width for s in sweep.specs) and len(sweep.inputs) == 2
    assert min(s.depth for s in sweep.specs) >= 2
    assert all(abs(math.fsum(v * v for v in x) - 1) < 1e-12 for x in sweep.inputs)


@settings(max_examples=20, deadline=None)
@given(densenet_alpha_sweeps())
def test_alpha_sweeps_design_is_log_alpha(sweep):
    low, high = sweep.specs
    assert isinstance(low, DenseNet) and low.depth == high.depth == 64 and low.width == high.width
    assert sweep.design == (math.log(low.alpha), math.log(high.alpha)) and 0.25 <= low.alpha <= 0.5 <= 2 <= high.alpha
