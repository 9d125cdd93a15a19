"""Training throughput: optimisation steps per second of a beta-VAE, pydisent against disent and pythae.

Setting: XYSquares (64 x 64 x 3, rendered on the fly by each library's own data path), batch 64, latent 10,
Adam 1e-4, Bernoulli (binary cross-entropy) reconstruction summed over pixels, beta 4, the **same
architecture for every library** (disentanglement_lib's conv encoder / deconv decoder, pydisent's
``conv64`` modules: the peers get the very same ``nn.Module`` classes, so the convolutions cost the same
and what differs is each library's step: data, loss, optimiser bookkeeping).

* pydisent: ``pydisent.train("beta_vae", "xysquares", steps=N, batch_size=64)``, its whole run timed
  (building the model and the data source included), no run folder, no progress bar; defaults (fp32,
  channels-last memory order for the conv model). ``pydisent bf16``: the same with ``precision="bf16"``
  (autocast), a different numeric setting from the peers', reported beside them.
* disent 0.8.0: its ``BetaVae`` framework (``recon_loss="bce"``, ``loss_reduction="mean_sum"``, so the
  same loss as pydisent's) built directly, stepped by a plain loop (``training_step``, backward, Adam)
  instead of Lightning's Trainer (absent here; Lightning only adds overhead), data from its own
  ``DisentDataset(XYSquaresData(), transform=ToImgTensorF32())`` and a shuffled ``DataLoader(batch_size=64)``
  (its training setup, ``num_workers=0``). torchvision/lightning are stubbed when missing
  (``tests/_references/disent.py``), a no-op ``log``/``log_dict`` stands in for Lightning's.
* pythae 0.1.2 (when installed): ``BetaVAE(BetaVAEConfig(..., reconstruction_loss="bce", beta=4))`` on the
  same modules (its BCE needs probabilities: a sigmoid ends the decoder), stepped by a plain loop over a
  shuffled ``DataLoader`` of a pre-rendered tensor (pythae trains on in-memory data; the rendering is not
  timed, to its advantage).

Each implementation runs ``N`` steps per call (``--quick``: 10; else 40); the row reports the median call,
``steps_per_s`` and, for pydisent, the fraction of the run spent waiting for data (``data_wait``, from the
run summary). The machine is shared with other jobs: figures are noisy.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from benchmarks.harness import Case

BATCH, LATENT, BETA, LR = 64, 10, 4.0, 1e-4


def _modules():
    from pydisent.models.architectures import Conv64Decoder, Conv64Encoder, _glorot_zero

    return _glorot_zero(Conv64Encoder(3, 2 * LATENT)), _glorot_zero(Conv64Decoder(LATENT, 3))


# -- pydisent --------------------------------------------------------------------------------------------
def pydisent_runner(steps: int, device: str, precision: str = "fp32"):
    import pydisent.train as T

    last = {}

    def run():
        r = T.train("beta_vae", "xysquares", steps=steps, batch_size=BATCH, device=device, seed=0, quiet=True,
                    hparams={"beta": BETA, "likelihood": "bernoulli"}, log_every=steps, checkpoint_every=None,
                    tensorboard=False, handle_signals=False, precision=precision)
        last.update(r.summary)
        return r.records[-1]["loss"]

    return run, last


# -- disent ----------------------------------------------------------------------------------------------
def disent_runner(steps: int, device: str):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests._references.disent import _Inert, stub_torchvision_and_lightning

    stub_torchvision_and_lightning()
    if isinstance(sys.modules.get("torchvision"), _Inert) and "torchvision.models" not in sys.modules:
        # disent.frameworks imports DFC-VAE, which imports torchvision.models (VGG) at module level
        tvm = _Inert("torchvision.models")
        tvm.__path__ = []
        sys.modules["torchvision.models"] = sys.modules["torchvision"].models = tvm
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from disent.dataset import DisentDataset
        from disent.dataset.data import XYSquaresData
        from disent.dataset.transform import ToImgTensorF32
        from disent.frameworks.vae import BetaVae
        from disent.model import AutoEncoder, DisentDecoder, DisentEncoder

    enc_m, dec_m = _modules()

    class Enc(DisentEncoder):
        def __init__(self):
            super().__init__(x_shape=(3, 64, 64), z_size=LATENT, z_multiplier=2)
            self.net = enc_m

        def encode(self, x):
            return self.net(x)

    class Dec(DisentDecoder):
        def __init__(self):
            super().__init__(x_shape=(3, 64, 64), z_size=LATENT, z_multiplier=1)
            self.net = dec_m

        def decode(self, z):
            return self.net(z)

    fw = BetaVae(model=AutoEncoder(Enc(), Dec()),
                 cfg=BetaVae.cfg(beta=BETA, recon_loss="bce", loss_reduction="mean_sum", optimizer="adam",
                                 optimizer_kwargs={"lr": LR}))
    fw.log = lambda *a, **k: None
    fw.log_dict = lambda *a, **k: None
    fw.to(device)
    opt = fw.configure_optimizers()
    data = DisentDataset(XYSquaresData(), transform=ToImgTensorF32())
    loader = torch.utils.data.DataLoader(data, batch_size=BATCH, shuffle=True, num_workers=0,
                                         generator=torch.Generator().manual_seed(0))
    it = iter(loader)

    def run():
        nonlocal it
        loss = None
        for i in range(steps):
            try:
                batch = next(it)
            except StopIteration:
                it = iter(loader)
                batch = next(it)
            batch = {k: ([t.to(device) for t in v] if isinstance(v, (list, tuple)) else v) for k, v in batch.items()}
            loss = fw.training_step(batch, i)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return float(loss.detach())

    return run


# -- pythae ----------------------------------------------------------------------------------------------
def pythae_runner(steps: int, device: str):
    from pythae.models import BetaVAE, BetaVAEConfig
    from pythae.models.base.base_utils import ModelOutput
    from pythae.models.nn import BaseDecoder, BaseEncoder

    from pydisent.data import make_dataset

    enc_m, dec_m = _modules()

    class Enc(BaseEncoder):
        def __init__(self):
            super().__init__()
            self.net = enc_m

        def forward(self, x):
            h = self.net(x)
            return ModelOutput(embedding=h[:, :LATENT], log_covariance=h[:, LATENT:])

    class Dec(BaseDecoder):
        def __init__(self):
            super().__init__()
            self.net = dec_m

        def forward(self, z):
            return ModelOutput(reconstruction=torch.sigmoid(self.net(z)))

    cfg = BetaVAEConfig(input_dim=(3, 64, 64), latent_dim=LATENT, beta=BETA, reconstruction_loss="bce")
    model = BetaVAE(cfg, encoder=Enc(), decoder=Dec()).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    ds = make_dataset("xysquares")
    rng = np.random.default_rng(0)
    x = ds.observations(ds.factor_space.sample_factors(4096, rng))
    from pythae.data.datasets import BaseDataset

    loader = torch.utils.data.DataLoader(BaseDataset(x, torch.zeros(len(x))), batch_size=BATCH, shuffle=True,
                                         generator=torch.Generator().manual_seed(0))
    it = iter(loader)

    def run():
        nonlocal it
        loss = None
        model.train()
        for _ in range(steps):
            try:
                batch = next(it)
            except StopIteration:
                it = iter(loader)
                batch = next(it)
            batch["data"] = batch["data"].to(device)
            out = model(batch, epoch=0, dataset_size=len(x), uses_ddp=False)
            opt.zero_grad()
            out.loss.backward()
            opt.step()
            loss = out.loss
        return float(loss.detach())

    return run


def cases(args):
    steps = 10 if args.quick else 40
    device = args.device
    sub, last = pydisent_runner(steps, device)
    impls = {"pydisent": sub}
    for name, make in (("disent", disent_runner), ("pythae", pythae_runner)):
        try:
            impls[name] = make(steps, device)
        except Exception as e:  # a peer that is absent or does not import here
            print(f"# {name} unavailable: {type(e).__name__}: {e}")
    extra = {"steps_per_call": steps, "batch_size": BATCH, "latent_dim": LATENT, "architecture": "dlib conv64",
             "dataset": "xysquares", "shared_machine": True}

    case = Case(f"beta_vae xysquares b{BATCH} {steps} steps", impls, extra=extra,
                sync=(torch.cuda.synchronize if device.startswith("cuda") else None))
    # the data wait of pydisent's last timed run goes into the JSON rows (rows are built after the timing)
    orig = impls["pydisent"]

    def subject():
        out = orig()
        extra["pydisent_data_wait_fraction"] = last.get("data_wait_fraction")
        extra["pydisent_wall_s"] = last.get("wall_s")
        return out

    impls["pydisent"] = subject
    # mixed precision (bf16 autocast; oneDNN's bf16 convolutions where the CPU has AVX512-BF16): not the
    # peers' numerics, a separate row
    impls["pydisent bf16"] = pydisent_runner(steps, device, "bf16")[0]
    yield case
    print(f"# pydisent data wait: {100 * (last.get('data_wait_fraction') or 0):.2f}% of the run "
          f"({last.get('data_wait_s', 0):.3f} s of {last.get('wall_s', 0):.2f} s)")
