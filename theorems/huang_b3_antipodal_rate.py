"""Huang et al. (NeurIPS 2020), Thm 5 (ResNet; THEOREMS.md B3, reconstructed), at the worst pair: the
normalised ResNet NTK reaches ResNet-1's at x' = -x too, but only at half the pointwise rate, so the
uniform (sup over the sphere) convergence is like L^((1 - 2 gamma)/2), not L^(1 - 2 gamma).

Reading: ``HuangResNet`` at infinite width, A and v fixed (``estimators.analytic``, float64). Why half:
k1(-1) = 0, so Sigma_l(x, -x) = Sigma_0(x, -x) while the diagonal grows like (1 + alpha^2)^l, hence
1 + rho_l ~ alpha^2 l; k0 has a square-root singularity at rho = -1, so the W_l terms carry
Sigma_dot_l = 2 k0(rho_l) ~ sqrt(2 alpha^2 l) / pi, and N_L(x, -x) - N_1(x, -x) = N_L(x, -x) ~
sqrt(alpha^2 L) = L^((1 - 2 gamma)/2) (N_1(x, -x) = k1(-1) - k0(-1) = 0). A consequence of the recursion
in this parameterisation, not a statement of the paper, which proves the limit, not its rate.
Drawn: gamma in [3/4, 1]; inputs x_0 = (1, 0), x_1 = (-1, 0) exactly. Estimated: D_L = |N_L - N_1| at six
depths L from 10^3 to 10^4; the OLS slope of log D_L on log L divided by 1 - 2 gamma (standard error:
lack of fit of the log-log line; the recursion is deterministic). Measured: 0.472 +- 0.002 (gamma =
3/4), 0.487 (0.8), 0.497 (0.9), 0.499 (1); below 3/4 the approach is slower to set in (0.44 at 0.7).
Decided: within 1/2 +- 0.1 (TOST, family-wise alpha = 0.01).
False twin: the pointwise rate r = 1 (``theorems/huang_b3_resnet_limit.py``) holds at x' = -x as well.
"""

from hypothesis import strategies as st

from engine import Claim, Sizes, within
from models.resnet import HuangResNet
from models.strategies import NetworkCase
from theorems.huang_b3_resnet_limit import rate_to_resnet1

ANTIPODAL = st.floats(0.75, 1.0).map(lambda g: NetworkCase(HuangResNet(2, 1, 1, g), ((1.0, 0.0), (-1.0, 0.0))))

RATE = Claim(
    id="huang2020.b3.antipodal-rate-half",
    statement="at x' = -x the normalised ResNet NTK approaches ResNet-1's like L^((1 - 2 gamma) / 2), half "
    "the pointwise rate (3/4 <= gamma <= 1)",
    citation="Huang, Wang, Tao & Zhao, NeurIPS 2020, Thm 5 (ResNet); THEOREMS.md B3",
    draw=ANTIPODAL,
    measure=rate_to_resnet1,
    prediction=0.5,
    rule=within(0.1, quantity="rate exponent / (1 - 2 gamma) at x' = -x"),
    n_draws=Sizes(quick=1, standard=1, paper=1),  # deterministic recursion: no Monte Carlo
    n_examples=Sizes(quick=1, standard=4, paper=10),
)

RATE_FULL = RATE.twin(
    id="huang2020.b3.antipodal-rate-half.twin-full-rate",
    statement="FALSE TWIN: at x' = -x the normalised ResNet NTK approaches ResNet-1's like L^(1 - 2 gamma)",
    prediction=1.0,
)
