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
 * Operation 4: capturing the current values, wrapping a no-op task in them and running it, on the
 * same thread, with {@code n} variables bound: everything a task handed to another thread costs
 * but the hand-over itself. contextvars4j twice: {@code ContextExecutors.capture(task).run()}
 * ({@link SystemType#CONTEXTVARS4J}) and {@code Context.copyCurrent().wrap(task).run()} ({@link
 * SystemType#CONTEXTVARS4J_COPY_WRAP}); TTL {@code TtlRunnable.get(task).run()}; OpenTelemetry and
 * gRPC {@code Context.current().wrap(task).run()}; Micrometer {@code
 * factory.captureAll().wrap(task).run()}; {@code ThreadLocal}s by hand (copy the values, then
 * set, run, restore); {@code ScopedValue} by running its kept carrier of {@code n} bindings (see
 * {@link ScopedValueSystem}). The wrapped task is returned, as it would be handed over.
 *
 * <p>Target: contextvars4j at most OpenTelemetry's, flat in {@code n}.
 *
 * <p>Run with the rest of the suite by {@code bin/bench}, or alone:
 *
 * <pre>{@code
 * java -jar contextvars4j-benchmarks/target/benchmarks.jar CaptureWrapRunBenchmark -prof gc
 * }</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class CaptureWrapRunBenchmark {

  @Param({
    "CONTEXTVARS4J",
    "CONTEXTVARS4J_COPY_WRAP",
    "THREAD_LOCAL",
    "INHERITABLE_THREAD_LOCAL",
    "TTL",
    "OPENTELEMETRY",
    "GRPC",
    "MICROMETER",
    "SCOPED_VALUE"
  })
  SystemType system;

  @Param({"1", "10", "100", "1000"})
  int n;

  private ContextSystem bound;

  @Setup
  public void setup() {
    bound = system.create();
    bound.bind(n);
    Checks.requireCarried(bound);
  }

  @TearDown
  public void tearDown() {
    bound.unbind();
  }

  /** Captures, wraps a no-op and runs it here. */
  @Benchmark
  public Runnable captureWrapRun() {
    Runnable wrapped = bound.captureAndWrap(ContextSystem.NOOP);
    wrapped.run();
    return wrapped;
  }
}
