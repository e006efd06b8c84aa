package org.contextvars4j.benchmarks;

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
 * Operation 2: setting a variable and restoring it, with {@code n} variables bound: contextvars4j
 * {@code var.reset(var.set(v))}, each peer its own set-and-restore ({@link SystemType}). Nothing
 * runs between the set and the restore. {@code ScopedValue}'s only set-and-restore is a nested
 * binding, measured inside the bindings by {@link InBindingsBenchmark}; Micrometer has no set of
 * its own.
 *
 * <p>The method returns nothing: the set and the restore change the thread's state, which the JIT
 * cannot drop.
 *
 * <p>Target: contextvars4j at most TransmittableThreadLocal's set-and-restore, flat in
 * {@code n}.
 *
 * <p>Run with the rest of the suite by {@code bin/bench}, or alone:
 *
 * <pre>{@code
 * java -jar contextvars4j-benchmarks/target/benchmarks.jar SetResetBenchmark -prof gc
 * }</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class SetResetBenchmark {

  @Param({
    "CONTEXTVARS4J",
    "THREAD_LOCAL",
    "INHERITABLE_THREAD_LOCAL",
    "TTL",
    "OPENTELEMETRY",
    "GRPC"
  })
  SystemType system;

  @Param({"1", "10", "100", "1000"})
  int n;

  private ContextSystem bound;

  @Setup
  public void setup() {
    bound = system.create();
    bound.bind(n);
    bound.setAndRestore();
    Checks.requireBound(bound, false);
    Checks.tenure();
  }

  @TearDown
  public void tearDown() {
    Checks.requireBound(bound, false);
    bound.unbind();
  }

  /** Sets the last variable bound to another value and restores it. */
  @Benchmark
  public void setAndRestore() {
    bound.setAndRestore();
  }
}
