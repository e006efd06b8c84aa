package org.contextvars4j.benchmarks;

import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Operation 5: an executor hop through each system's executor wrapper, with {@code n} variables
 * bound: hand a task that reads the variable to a single-thread pool wrapped by the system
 * (contextvars4j {@code ContextExecutors.wrap}, TTL {@code TtlExecutors.getTtlExecutorService},
 * OpenTelemetry {@code Context.taskWrapping}, gRPC {@code Context.currentContextExecutor},
 * Micrometer {@code ContextExecutorService.wrap(pool, factory::captureAll)}) and wait for its
 * result. {@link SystemType#THREAD_LOCAL} hands the task to the unwrapped pool: the baseline, to
 * which the report gives each system's time as a ratio (its task reads the pool thread's own,
 * empty, value). The pool's thread is started before the variables are bound, so that no {@code
 * InheritableThreadLocal} (TTL's values are ones) reaches it by thread creation.
 *
 * <p>Every system hands over the same {@link FutureTask} through {@link Executor#execute}; the
 * setup checks that the task sees the value (the baseline: that it does not). {@code
 * InheritableThreadLocal} behaves as the baseline with a pool and {@code ScopedValue} has no
 * executor wrapper, so neither is run.
 *
 * <p>The hand-over spins on both sides: the pool's worker takes tasks from a {@link SpinningQueue},
 * whose {@code take} spins instead of parking, and the benchmark thread spins until the task is
 * done. With parking hand-overs (a {@code LinkedBlockingQueue}, {@code FutureTask.get}) each hop
 * costs two thread wake-ups, 15 to 50 µs on a 2-CPU virtual machine and as noisy, and the
 * wrappers' cost disappears in that noise; spinning keeps the hop at a few hundred nanoseconds,
 * the cost of moving the task and its result between two cores, next to which the wrappers show.
 * It takes both CPUs of a 2-CPU machine while it runs.
 *
 * <p>Run with the rest of the suite by {@code bin/bench}, or alone:
 *
 * <pre>{@code
 * java -jar contextvars4j-benchmarks/target/benchmarks.jar ExecutorHopBenchmark -prof gc
 * }</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class ExecutorHopBenchmark {

  @Param({"THREAD_LOCAL", "CONTEXTVARS4J", "TTL", "OPENTELEMETRY", "GRPC", "MICROMETER"})
  SystemType system;

  @Param({"1", "10", "100", "1000"})
  int n;

  private ThreadPoolExecutor pool;
  private ContextSystem bound;
  private Executor executor;
  private Callable<Object> read;

  @Setup
  public void setup() throws Exception {
    pool = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new SpinningQueue());
    pool.prestartAllCoreThreads();
    bound = system.create();
    bound.bind(n);
    executor = bound.wrap(pool);
    ContextSystem reader = bound;
    read = reader::get;
    Object seen = hop();
    Object expected = bound.propagatesToPool() ? ContextSystem.VALUE : null;
    Checks.require(seen == expected, bound, "the pool's task saw " + seen);
  }

  @TearDown
  public void tearDown() throws InterruptedException {
    bound.unbind();
    pool.shutdown();
    pool.awaitTermination(10, TimeUnit.SECONDS);
  }

  /** A work queue whose {@code take} spins (until interrupted) instead of parking. */
  static final class SpinningQueue extends LinkedTransferQueue<Runnable> {
    private static final long serialVersionUID = 1L;

    @Override
    public Runnable take() throws InterruptedException {
      Runnable task;
      while ((task = poll()) == null) {
        if (Thread.interrupted()) {
          throw new InterruptedException();
        }
        Thread.onSpinWait();
      }
      return task;
    }
  }

  /** Runs a task that reads the variable on the pool and waits for its result. */
  @Benchmark
  public Object hop() throws Exception {
    return handOver(executor, read);
  }

  /**
   * Hands {@code work} to {@code executor} as a {@link FutureTask} and spins until it is done:
   * the hop of this benchmark and of {@link HandlerBenchmark}. With no executor, calls it on this
   * thread: the handler's sets and reads without the hop.
   */
  static Object handOver(Executor executor, Callable<Object> work) throws Exception {
    if (executor == null) {
      return work.call();
    }
    FutureTask<Object> task = new FutureTask<>(work);
    executor.execute(task);
    while (!task.isDone()) {
      Thread.onSpinWait();
    }
    return task.get();
  }
}
