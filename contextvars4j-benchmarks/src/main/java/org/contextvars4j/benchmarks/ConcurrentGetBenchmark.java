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

/**
 * The hot read at a server's shape: one variable shared by every thread (a {@code static final}
 * {@code REQUEST_ID}), bound on each thread in its own context, read again and again on 1, 2 and
 * 4 threads at once. On a 2-CPU machine the 4-thread figure is oversubscribed: each thread gets
 * half a CPU, so its time per read doubles even where nothing is shared.
 *
 * <p>Target: contextvars4j at most 1.3 × {@code ThreadLocal.get()} on 1 and on 2 threads, 0
 * bytes/op.
 *
 * {@snippet lang = shell :
 * java -jar contextvars4j-benchmarks/target/benchmarks.jar ConcurrentGetBenchmark -prof gc
 * }
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class ConcurrentGetBenchmark {

  /** One thread reading. */
  @Benchmark
  @Threads(1)
  public Object get1(ThreadBinding binding) {
    return binding.system.get();
  }

  /** Two threads reading the same variable, each in its own context. */
  @Benchmark
  @Threads(2)
  public Object get2(ThreadBinding binding) {
    return binding.system.get();
  }

  /** Four threads on two CPUs: oversubscribed. */
  @Benchmark
  @Threads(4)
  public Object get4(ThreadBinding binding) {
    return binding.system.get();
  }
}
