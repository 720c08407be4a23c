"""Distributed training with actfit modules: DDP and FSDP (fully_shard), 2 processes, gloo
on the loopback address, CPU.  After N steps on halves of each global batch the loss equals
the single-process run on the whole batch to rounding, and the ranks hold identical
parameters.  Run by CTest through .venv/bin/python; exits 77 without torch.distributed."""

import os
import socket
import sys
import tempfile

try:
    import torch
    import torch.distributed as dist
    import torch.multiprocessing as mp
    import pytest
except ImportError:
    print("test_distributed: torch or pytest is not installed: skipped")
    sys.exit(77)
if not dist.is_available() or not dist.is_gloo_available():
    print("test_distributed: this torch has no gloo backend: skipped")
    sys.exit(77)

import actfit.nn as an

STEPS, BATCH, D = 6, 32, 16


def model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(D, 4 * D), an.GELU(), torch.nn.Linear(4 * D, 4 * D),
                               an.SiLU(method="fewbit", bits=2), torch.nn.Linear(4 * D, 1))


def batches():
    g = torch.Generator().manual_seed(1)
    w = torch.randn(D, 1, generator=g)
    for _ in range(STEPS):
        x = torch.randn(BATCH, D, generator=g)
        yield x, torch.tanh(x @ w)


def train(m, rank=0, world=1):
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    losses = []
    for x, t in batches():
        part = slice(rank * BATCH // world, (rank + 1) * BATCH // world)
        loss = torch.nn.functional.mse_loss(m(x[part]), t[part])
        loss.backward()
        opt.step()
        opt.zero_grad()
        with torch.no_grad():  # the global batch's loss
            full = loss.detach().clone()
            if world > 1:
                dist.all_reduce(full)
                full /= world
        losses.append(full.item())
    return losses


def worker(rank, world, port, kind, out):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world)
    try:
        m = model()
        if kind == "ddp":
            wrapped = torch.nn.parallel.DistributedDataParallel(m)
        else:
            from torch.distributed.fsdp import fully_shard
            for layer in m:
                if isinstance(layer, torch.nn.Linear):
                    fully_shard(layer)
            wrapped = fully_shard(m)
        losses = train(wrapped, rank, world)
        if kind == "fsdp":
            params = [p.full_tensor().detach() for p in m.parameters()]
        else:
            params = [p.detach() for p in m.parameters()]
        torch.save({"losses": losses, "params": params}, os.path.join(out, f"{rank}.pt"))
        # both ranks done before either tears gloo down: a rank that destroyed its group
        # while the other still talked to it aborted the other now and then (SIGABRT,
        # "terminate called without an active exception", once in a loaded CI run)
        dist.barrier()
    finally:
        dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("kind", ["ddp", "fsdp"])
def test_two_process_training_equals_the_single_process_run(kind):
    torch.set_num_threads(1)
    single = train(model())
    with tempfile.TemporaryDirectory() as out:
        mp.spawn(worker, args=(2, free_port(), kind, out), nprocs=2, join=True)
        r0, r1 = (torch.load(os.path.join(out, f"{r}.pt")) for r in (0, 1))
    assert single[-1] < single[0]
    for a, b in zip(single, r0["losses"]):
        assert abs(a - b) <= 1e-5 * abs(a), (single, r0["losses"])
    assert r0["losses"] == r1["losses"]
    for p, q in zip(r0["params"], r1["params"]):
        assert torch.equal(p, q)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
