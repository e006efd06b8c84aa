package org.contextvars4j.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Operations 1 and 2 for {@code ScopedValue}, whose bindings exist only inside {@code
 * ScopedValue.where(...).run(op)}: a JMH benchmark method cannot run inside one, so each
 * invocation enters the {@code n} bindings once and does {@value #BATCH} operations in them (the
 * binding's own cost, spread over them, is below 0.1 ns/op). Each result goes to a {@link
 * Blackhole}. {@link SystemType#THREAD_LOCAL} runs the same loop as a control: its numbers here
 * against its numbers in {@link GetBenchmark} and {@link SetResetBenchmark} show what the batch
 * form itself adds or hides (the JIT may hoist work out of a loop), so compare {@code
 * ScopedValue} with the control here, and the control with the per-call rows there.
 *
 * <p>{@code get}: {@code key.get()} of the last bound key (hot: a hit in the thread's scoped-value
 * cache). {@code getUnbound}: {@code key.orElse(default)} of a key never bound. {@code
 * setAndRestore}: a nested binding, {@code ScopedValue.where(key, v).run(noop)}.
 *
 * <p>Run with the rest of the suite by {@code bin/bench}, or alone:
 *
 * <pre>{@code
 * java -jar contextvars4j-benchmarks/target/benchmarks.jar InBindingsBenchmark -prof gc
 * }</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class InBindingsBenchmark {

  /** Operations per benchmark invocation. */
  public static final int BATCH = 1000;

  @Param({"SCOPED_VALUE", "THREAD_LOCAL"})
  SystemType system;

  @Param({"1", "10", "100", "1000"})
  int n;

  /**
   * {@value #BATCH}, read at every turn of the loops: a volatile read orders the loads after it, so
   * the JIT cannot hoist a read of the variable out of the loop (it does, for {@code
   * ScopedValue.orElse} with few bindings, without this). On x86 it costs a plain load.
   */
  private volatile int batch = BATCH;

  private ContextSystem bound;
  private Runnable gets;
  private Runnable unboundGets;
  private Runnable setsAndRestores;

  @Setup
  public void setup(Blackhole bh) {
    bound = system.create();
    bound.bind(n);
    Checks.requireBound(bound, true);
    ContextSystem in = bound;
    // Each loop reads the volatile bound at every turn (see batch).
    gets =
        () -> {
          for (int i = 0; i < batch; i++) {
            bh.consume(in.get());
          }
        };
    unboundGets =
        () -> {
          for (int i = 0; i < batch; i++) {
            bh.consume(in.getUnbound());
          }
        };
    setsAndRestores =
        () -> {
          for (int i = 0; i < batch; i++) {
            in.setAndRestore();
          }
        };
  }

  @TearDown
  public void tearDown() {
    bound.unbind();
  }

  /** Reads the last variable bound, {@value #BATCH} times in the bindings. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void get() {
    bound.inBindings(gets);
  }

  /** Reads a variable never bound with a default, {@value #BATCH} times in the bindings. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void getUnbound() {
    bound.inBindings(unboundGets);
  }

  /** Sets (binds) the last variable to another value and restores it, {@value #BATCH} times. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void setAndRestore() {
    bound.inBindings(setsAndRestores);
  }
}
