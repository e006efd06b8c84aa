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
 * Operation 1: reading a variable with {@code n} variables bound on the thread, hot (the same
 * variable, on the same thread, again and again, as a request handler's logging does), and reading
 * a variable that is not bound, with a default. Each system as {@link SystemType} describes it;
 * {@code ScopedValue}, which can be read only inside a binding, is measured by {@link
 * InBindingsBenchmark}; Micrometer has no variable of its own (its variables are the {@code
 * ThreadLocal} rows).
 *
 * <p>Targets: contextvars4j's {@code get} at most 1.3 × {@code ThreadLocal.get()}, and 0
 * bytes/op for both reads.
 *
 * <p>Run with the rest of the suite by {@code bin/bench}, or alone:
 *
 * <pre>{@code
 * java -jar contextvars4j-benchmarks/target/benchmarks.jar GetBenchmark -prof gc
 * }</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class GetBenchmark {

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
    Checks.requireBound(bound, true);
  }

  @TearDown
  public void tearDown() {
    bound.unbind();
  }

  /** Reads the last variable bound. */
  @Benchmark
  public Object get() {
    return bound.get();
  }

  /** Reads a variable never bound, falling back to a default. */
  @Benchmark
  public Object getUnbound() {
    return bound.getUnbound();
  }
}
