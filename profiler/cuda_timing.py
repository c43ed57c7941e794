"""One CUDA-event timer for the Python measurement scripts (docs/profiling.md: warm up, time each
run with CUDA events, keep every sample)."""
import statistics


def event_samples_ms(run, runs, warmup):
    """Milliseconds of each of `runs` calls of run(), after `warmup` untimed calls."""
    import torch  # the scripts that import this module rebuild tables without PyTorch

    for _ in range(warmup):
        run()
    torch.cuda.synchronize()
    samples = []
    for _ in range(runs):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        run()
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end))
    return samples


def median_ms(run, runs, warmup):
    return statistics.median(event_samples_ms(run, runs, warmup))
