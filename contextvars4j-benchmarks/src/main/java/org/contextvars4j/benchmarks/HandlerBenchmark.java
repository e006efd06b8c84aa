package org.contextvars4j.benchmarks;

import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * The handler shape ({@link ContextSystem#handler}): three variables set, each read {@value
 * ContextSystem#HANDLER_READS} times, one hop through the system's wrapper of a single-thread pool
 * (whose task reads the three), then the three restored. The hop spins on both sides, as in
 * {@link ExecutorHopBenchmark}, so it takes both CPUs of a 2-CPU machine: one benchmark thread
 * only. {@link SystemType#THREAD_LOCAL} hands the task to the unwrapped pool (its task sees none
 * of the values): the baseline.
 *
 * {@snippet lang = shell :
 * java -jar contextvars4j-benchmarks/target/benchmarks.jar HandlerBenchmark -prof gc
 * }
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class HandlerBenchmark {

  @Param({"THREAD_LOCAL", "CONTEXTVARS4J", "TTL", "OPENTELEMETRY", "GRPC"})
  SystemType system;

  private ThreadPoolExecutor pool;
  private ContextSystem handling;
  private Executor executor;
  private Callable<Object> hop;

  @Setup
  public void setup() throws Exception {
    pool =
        new ThreadPoolExecutor(
            1, 1, 0, TimeUnit.SECONDS, new ExecutorHopBenchmark.SpinningQueue());
    pool.prestartAllCoreThreads();
    handling = system.create();
    executor = handling.wrap(pool);
    ContextSystem reader = handling;
    hop = reader::readHandlerVars;
    Object seen = handling.handler(Checks.blackhole(), executor, hop);
    Object expected = handling.propagatesToPool() ? ContextSystem.OTHER : null;
    Checks.require(seen == expected, handling, "the handler's hop saw " + seen);
    Checks.tenure();
  }


  @TearDown
  public void tearDown() throws InterruptedException {
    pool.shutdown();
    pool.awaitTermination(10, TimeUnit.SECONDS);
  }

  /** One handler: sets, reads, a hop, restores. */
  @Benchmark
  public Object handler(Blackhole bh) throws Exception {
    return handling.handler(bh, executor, hop);
  }

  /**
   * The same handler without its hop: the task's reads on this thread. Three sets open at once,
   * each on top of the one before, which the hop's microseconds would hide.
   */
  @Benchmark
  public Object handlerWithoutHop(Blackhole bh) throws Exception {
    return handling.handler(bh, null, hop);
  }
}
