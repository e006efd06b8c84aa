package org.contextvars4j.benchmarks;

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
 * The floor of a context read on the JVM without access to {@code Thread}'s own fields: a value
 * that lives in a context rather than in its own {@code ThreadLocal} is found through one {@code
 * ThreadLocal} holding the thread's state, and then at least one load from that state. This
 * measures {@code ThreadLocal.get()} alone, and {@code ThreadLocal.get()} followed by one field
 * load and by a field load, an array load and an identity check, the least a lookup of a
 * variable in a per-thread slot can do; {@code ContextVar.get()} beside them, in the same run.
 *
 * {@snippet lang = shell :
 * java -jar contextvars4j-benchmarks/target/benchmarks.jar GetFloorBenchmark
 * }
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class GetFloorBenchmark {

  /** A per-thread state with one value in a field and one in a slot array. */
  static final class Holder {
    Object value = ContextSystem.VALUE;
    Object[] slots = {Holder.class, ContextSystem.VALUE};
  }

  private final ThreadLocal<Object> plain = new ThreadLocal<>();
  private final ThreadLocal<Holder> holder = new ThreadLocal<>();
  private final org.contextvars4j.ContextVar<Object> var =
      org.contextvars4j.ContextVar.named("floor");

  @Setup
  public void setup() {
    plain.set(ContextSystem.VALUE);
    holder.set(new Holder());
    var.set(ContextSystem.VALUE);
  }

  /** {@code ThreadLocal.get()}: the value in its own thread-local. */
  @Benchmark
  public Object threadLocal() {
    return plain.get();
  }

  /** {@code ThreadLocal.get()} of a state object, then one field of it. */
  @Benchmark
  public Object threadLocalThenField() {
    return holder.get().value;
  }

  /** {@code ThreadLocal.get()} of a state object, then a key check and a value in its slots. */
  @Benchmark
  public Object threadLocalThenSlot() {
    Object[] slots = holder.get().slots;
    return slots[0] == Holder.class ? slots[1] : null;
  }

  /** {@code ContextVar.get()} of the variable set last. */
  @Benchmark
  public Object contextVar() {
    return var.get();
  }
}
