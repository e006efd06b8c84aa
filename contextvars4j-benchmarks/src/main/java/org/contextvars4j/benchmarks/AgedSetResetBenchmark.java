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
 * Set + restore of the variable ({@link ContextSystem#setAndRestore}) with {@code n} variables
 * bound, on a fresh mapping (just bound) and on an aged one: the same {@code n} variables after
 * {@value #AGE} further sets never undone ({@link ContextSystem#age}), the Python style of {@code
 * var.set(x)} with the token dropped. OpenTelemetry's and gRPC's contexts are immutable values
 * made anew by each change: they have no history to age, so only the systems with a mutable
 * per-thread store are here.
 *
 * <p>A third history, {@code warmed}, tells the mapping's history from the JIT's: a fresh mapping,
 * after the same binding and aging sets were made on another thread. The JIT then compiles the set
 * with the aged run's profile (10,000 sets that each moved the previous one into the slots), and
 * only the mapping differs from {@code aged}. Without it, aged against fresh also measures the
 * profile and the inlining decisions that the aging calls leave behind.
 *
 * <p>The setup ends with full collections ({@link Checks#tenure}): the thread's state is old, as
 * in a server.
 *
 * <p>Target: contextvars4j's aged figure at most 1.15 × its fresh one, at every {@code n}.
 *
 * {@snippet lang = shell :
 * java -jar contextvars4j-benchmarks/target/benchmarks.jar AgedSetResetBenchmark -prof gc
 * }
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class AgedSetResetBenchmark {

  /** The number of sets never undone that age a mapping. */
  static final int AGE = 10_000;

  @Param({"CONTEXTVARS4J", "THREAD_LOCAL", "TTL"})
  SystemType system;

  @Param({"1", "10", "1000"})
  int n;

  @Param({"fresh", "warmed", "aged"})
  String history;

  private ContextSystem bound;

  @Setup
  public void setup() {
    bound = system.create();
    bound.bind(n);
    if (history.equals("aged")) {
      bound.age(n, AGE);
    } else if (history.equals("warmed")) {
      ageOnAnotherThread();
    }
    bound.setAndRestore();
    Checks.requireBound(bound, false);
    Checks.tenure();
  }

  /** The binding and aging sets of {@code aged}, on a thread of their own that then ends. */
  private void ageOnAnotherThread() {
    Checks.runOnAnotherThread(
        "aging",
        () -> {
          bound.bind(n);
          bound.age(n, AGE);
        });
  }

  @TearDown
  public void tearDown() {
    Checks.requireBound(bound, false);
    bound.unbind();
  }

  /** Sets the variable to another value and restores it. */
  @Benchmark
  public void setAndRestore() {
    bound.setAndRestore();
  }
}
