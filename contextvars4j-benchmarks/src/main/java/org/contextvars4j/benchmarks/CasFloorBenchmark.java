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
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The floor of entering a held context: what {@code Context.run} does atomically, alone. A
 * compare-and-set of an owner field from its free value to the current thread, then a release
 * store of the free value, on a field only this thread touches (so uncontended, as a replay is).
 *
 * <ul>
 *   <li>{@link #casAndRelease}: the owner as a {@code Thread} reference, {@code null} when free;
 *   <li>{@link #casIdAndRelease}: the owner as the thread's id, 0 when free, as {@code Context}
 *       keeps it: a primitive takes no GC write barrier.
 * </ul>
 *
 * <p>The state is tenured ({@link Checks#tenure}), as a context held by a server is: under G1 a
 * compare-and-set of a reference into an old object also takes the write barrier's slow path.
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
  private static final VarHandle OWNER_ID;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      OWNER = lookup.findVarHandle(CasFloorBenchmark.class, "owner", Thread.class);
      OWNER_ID = lookup.findVarHandle(CasFloorBenchmark.class, "ownerId", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @SuppressWarnings("unused") // accessed through OWNER
  private volatile Thread owner;

  @SuppressWarnings("unused") // accessed through OWNER_ID
  private volatile long ownerId;

  /** Moves this state into the old generation, where a server's held contexts are. */
  @Setup
  public void setup() {
    Checks.tenure();
  }

  /** Claims and releases the owner field, as an entry and an exit do. */
  @Benchmark
  public boolean casAndRelease() {
    boolean won = OWNER.compareAndSet(this, (Thread) null, Thread.currentThread());
    OWNER.setRelease(this, (Thread) null);
    return won;
  }

  /** The same with the owner as the thread's id, as {@code Context} claims itself. */
  @Benchmark
  public boolean casIdAndRelease() {
    boolean won = OWNER_ID.compareAndSet(this, 0L, Thread.currentThread().threadId());
    OWNER_ID.setRelease(this, 0L);
    return won;
  }
}
