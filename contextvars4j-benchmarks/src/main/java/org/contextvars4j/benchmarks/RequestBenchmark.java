package org.contextvars4j.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The request shape ({@link ContextSystem#request}): set the shared variable, read it {@value
 * ContextSystem#REQUEST_READS} times, restore it, on 1, 2 and 4 threads at once (4 is
 * oversubscribed on 2 CPUs), each thread in its own context. The variable is bound on every
 * thread before (to {@link ContextSystem#VALUE}), so the restore goes back to a value.
 *
 * <p>Targets: contextvars4j at most OpenTelemetry's time on 1 and on 2 threads; at most 48
 * bytes/op.
 *
 * {@snippet lang = shell :
 * java -jar contextvars4j-benchmarks/target/benchmarks.jar RequestBenchmark -prof gc
 * }
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class RequestBenchmark {

  /** One thread. */
  @Benchmark
  @Threads(1)
  public void request1(ThreadBinding binding, Blackhole bh) {
    binding.system.request(bh);
  }

  /** Two threads, each in its own context. */
  @Benchmark
  @Threads(2)
  public void request2(ThreadBinding binding, Blackhole bh) {
    binding.system.request(bh);
  }

  /** Four threads on two CPUs: oversubscribed. */
  @Benchmark
  @Threads(4)
  public void request4(ThreadBinding binding, Blackhole bh) {
    binding.system.request(bh);
  }
}
