package org.contextvars4j.benchmarks;

import java.util.concurrent.TimeUnit;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The floor of a capture that returns a new object, as PEP 567's {@code copy_context()} must: a
 * {@code Context} is mutable ({@code ctx.run} keeps the sets made in it), so two captures are two
 * objects. OpenTelemetry's {@code Context.current()} hands out its immutable context, one {@code
 * ThreadLocal.get()}. This measures that read alone, the read followed by the allocation of an
 * object of 24 and of 32 bytes around the value it read (the least a copy can do), {@code
 * Context.copyCurrent()} and OpenTelemetry's {@code Context.current()}, in the same run.
 *
 * {@snippet lang = shell :
 * java -jar contextvars4j-benchmarks/target/benchmarks.jar CopyFloorBenchmark -prof gc
 * }
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class CopyFloorBenchmark {

  /** A copy's least shape: three references (24 bytes with compressed pointers and headers). */
  static final class Copy24 {
    final Object mapping;
    Object owner;
    Object entry;

    Copy24(Object mapping) {
      this.mapping = mapping;
    }
  }

  /** {@link Copy24} with two {@code int}s more: the size of today's {@code Context}. */
  static final class Copy32 {
    final Object mapping;
    Object owner;
    Object entry;
    int bottom;
    int top;

    Copy32(Object mapping) {
      this.mapping = mapping;
    }
  }

  private final ThreadLocal<Object> state = new ThreadLocal<>();
  private final ContextVar<Object> var = ContextVar.named("floor");
  private final io.opentelemetry.context.ContextKey<Object> key =
      io.opentelemetry.context.ContextKey.named("floor");

  @Setup
  public void setup() {
    state.set(ContextSystem.VALUE);
    var.set(ContextSystem.VALUE);
    io.opentelemetry.context.Context.current().with(key, ContextSystem.VALUE).makeCurrent();
    Checks.tenure();
  }

  /** {@code ThreadLocal.get()}: an immutable capture's whole cost. */
  @Benchmark
  public Object threadLocal() {
    return state.get();
  }

  /** {@code ThreadLocal.get()} and a new 24-byte object around what it read. */
  @Benchmark
  public Object threadLocalThenNew24() {
    return new Copy24(state.get());
  }

  /** {@code ThreadLocal.get()} and a new 32-byte object around what it read. */
  @Benchmark
  public Object threadLocalThenNew32() {
    return new Copy32(state.get());
  }

  /** contextvars4j's capture: a new {@code Context} around the current mapping. */
  @Benchmark
  public Object copyCurrent() {
    return Context.copyCurrent();
  }

  /** OpenTelemetry's capture: its current immutable context. */
  @Benchmark
  public Object openTelemetryCurrent() {
    return io.opentelemetry.context.Context.current();
  }
}
