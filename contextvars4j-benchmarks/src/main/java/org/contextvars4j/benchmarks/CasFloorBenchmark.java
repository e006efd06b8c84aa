package org.contextvars4j.benchmarks;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The floor of entering a held context: what {@code Context.run} does atomically, alone. A
 * compare-and-set of an owner field from {@code null} to the current thread, then a release
 * store of {@code null}, on a field only this thread touches (so uncontended, as a replay is).
 *
 * {@snippet lang = shell :
 * java -jar contextvars4j-benchmarks/target/benchmarks.jar CasFloorBenchmark
 * }
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class CasFloorBenchmark {

  private static final VarHandle OWNER;

  static {
    try {
      OWNER = MethodHandles.lookup().findVarHandle(CasFloorBenchmark.class, "owner", Thread.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @SuppressWarnings("unused") // accessed through OWNER
  private volatile Thread owner;

  /** Claims and releases the owner field, as an entry and an exit do. */
  @Benchmark
  public boolean casAndRelease() {
    boolean won = OWNER.compareAndSet(this, (Thread) null, Thread.currentThread());
    OWNER.setRelease(this, (Thread) null);
    return won;
  }
}
