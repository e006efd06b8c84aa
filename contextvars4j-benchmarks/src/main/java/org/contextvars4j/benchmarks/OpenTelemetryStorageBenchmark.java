package org.contextvars4j.benchmarks;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import io.opentelemetry.context.ContextStorage;
import io.opentelemetry.context.Scope;
import java.util.concurrent.TimeUnit;
import org.contextvars4j.ContextVar;
import org.contextvars4j.concurrent.ContextExecutors;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * OpenTelemetry's own API on its default storage (a {@code ThreadLocal}) and on {@code
 * contextvars4j-opentelemetry}'s (a {@code ContextVar}): {@code Context.current()}, {@code
 * makeCurrent()} + {@code close()}, {@code Span.current()}, a hop's two sides on one thread, and
 * each side alone. OpenTelemetry takes its storage once per JVM, so {@code storage} picks it for
 * the fork with {@code -Dio.opentelemetry.context.contextStorageProvider} (JMH forks a JVM per
 * parameter set).
 *
 * <p>The hop: with the default storage, what OpenTelemetry offers, {@code Context.current().wrap(
 * task)} (what {@code Context.taskWrapping} does per task) and its run, carrying OpenTelemetry's
 * context alone; with contextvars4j's, {@code ContextExecutors.capture(task)} and its run,
 * carrying OpenTelemetry's context and 5 {@code ContextVar}s in the same capture.
 *
 * <p>Targets: {@code current()} and {@code makeCurrent} + {@code close} at most 1.3 × the default
 * storage; the contextvars4j hop (OpenTelemetry's context and 5 variables) at most the default
 * storage's hop carrying its context alone.
 *
 * <pre>{@code
 * java -jar contextvars4j-benchmarks/target/benchmarks.jar OpenTelemetryStorageBenchmark -prof gc
 * }</pre>
 */
@State(org.openjdk.jmh.annotations.Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class OpenTelemetryStorageBenchmark {
  private static final String PROPERTY = "io.opentelemetry.context.contextStorageProvider";
  private static final String CONTEXTVARS4J =
      "org.contextvars4j.opentelemetry.ContextVarsStorageProvider";
  private static final ContextKey<Object> KEY = ContextKey.named("benchmark");

  /** {@code default}: OpenTelemetry's thread-local storage; or contextvars4j's provider. */
  @Param({"default", CONTEXTVARS4J})
  String storage;

  private final ContextVar<?>[] vars = new ContextVar<?>[5];
  private Context request;
  private Context other;
  private Scope attached;
  private Runnable task;
  private Runnable captured;

  @Setup
  public void setup() {
    System.setProperty(PROPERTY, storage);
    String actual = ContextStorage.get().getClass().getName();
    boolean ours = actual.startsWith("org.contextvars4j.opentelemetry.");
    Checks.require(ours == !storage.equals("default"), storage, "the storage in use is " + actual);
    SpanContext span =
        SpanContext.create(
            "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", TraceFlags.getSampled(),
            TraceState.getDefault());
    request = Context.root().with(Span.wrap(span)).with(KEY, ContextSystem.VALUE);
    other = request.with(KEY, "other");
    attached = request.makeCurrent();
    if (ours) {
      for (int i = 0; i < vars.length; i++) {
        ContextVar<Object> var = ContextVar.named("v" + i);
        var.set(ContextSystem.VALUE);
        vars[i] = var;
      }
    }
    Blackhole sink = Checks.blackhole();
    task = () -> sink.consume(Span.current());
    captured = capture();
    Checks.require(Span.current().getSpanContext().equals(span), storage, "Span.current()");
    Checks.tenure();
  }

  @TearDown
  public void tearDown() {
    attached.close();
    Checks.require(Context.current() == Context.root(), storage, "nothing left attached");
  }

  /** {@code Context.current()}. */
  @Benchmark
  public Context current() {
    return Context.current();
  }

  /** {@code Span.current()}: the current context and a key lookup in it. */
  @Benchmark
  public Span spanCurrent() {
    return Span.current();
  }

  /** {@code makeCurrent()} of another context and {@code close()} of its scope. */
  @Benchmark
  public void makeCurrentClose() {
    try (Scope ignored = other.makeCurrent()) {
      // the scope's whole life
    }
  }

  /**
   * The handing-over side of a hop alone: what a submitting thread pays per task. Nothing runs in
   * between, as on a request thread that hands tasks to a pool.
   */
  @Benchmark
  public Runnable capture() {
    return storage.equals("default") ? Context.current().wrap(task) : ContextExecutors.capture(task);
  }

  /** The receiving side of a hop alone: the run of a task captured elsewhere (in the setup). */
  @Benchmark
  public void runCaptured() {
    captured.run();
  }

  /** A hop's two sides on one thread: the capture where the task is handed over, and its run. */
  @Benchmark
  public void hop() {
    Runnable wrapped =
        storage.equals("default") ? Context.current().wrap(task) : ContextExecutors.capture(task);
    wrapped.run();
  }
}
