package org.contextvars4j.benchmarks;

import ch.qos.logback.classic.util.LogbackMDCAdapter;
import io.micrometer.context.ContextRegistry;
import io.micrometer.context.ContextSnapshot;
import io.micrometer.context.ContextSnapshotFactory;
import io.micrometer.context.integration.Slf4jThreadLocalAccessor;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.core.impl.ContextDataFactory;
import org.apache.logging.log4j.core.impl.JdkMapAdapterStringMap;
import org.apache.logging.log4j.spi.DefaultThreadContextMap;
import org.apache.logging.log4j.util.StringMap;
import org.contextvars4j.Context;
import org.contextvars4j.log4j2.ContextThreadContextMap;
import org.contextvars4j.slf4j.ContextMDCAdapter;
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
import org.openjdk.jmh.infra.Blackhole;
import org.slf4j.MDC;

/**
 * The MDC (SLF4J's mapped diagnostic context, Log4j's {@code ThreadContext} map) holding {@code
 * entries} keys, {@value #REQUEST_ID} and {@code k1}, {@code k2}, …: contextvars4j's two adapters
 * beside the map each backend uses by default, in four shapes. Every system's map object is called
 * directly, not through the SLF4J {@code MDC} or Log4j {@code ThreadContext} facade, whose
 * implementation is fixed once per JVM.
 *
 * <h2>The systems ({@link MdcSystem})</h2>
 *
 * <ul>
 *   <li>{@code CONTEXTVARS4J_SLF4J}: contextvars4j-slf4j's {@code ContextMDCAdapter}, the MDC in
 *       {@code ContextVar}s (what {@code contextvars4j-logback} installs in Logback). Its peer is
 *       {@code LOGBACK}.
 *   <li>{@code LOGBACK}: Logback's {@code LogbackMDCAdapter}, a {@code HashMap} in a {@code
 *       ThreadLocal}, changed in place, and a read-only copy of it made at the first read after a
 *       change (a log event's, a copy's) and kept until the next change.
 *   <li>{@code CONTEXTVARS4J_LOG4J2}: contextvars4j-log4j2's {@code ContextThreadContextMap}, an
 *       immutable map in one {@code ContextVar}. Its peer is {@code LOG4J2}.
 *   <li>{@code LOG4J2}: Log4j's {@code DefaultThreadContextMap}, log4j-core's default map since
 *       2.24: an immutable array-backed map in a {@code ThreadLocal}, copied whole by every put and
 *       remove.
 *   <li>{@code MICROMETER_LOGBACK} (hop only): Micrometer context-propagation's {@code
 *       Slf4jThreadLocalAccessor} in its global mode (no keys: it captures and restores the whole
 *       MDC), registered in a private {@code ContextRegistry}. The accessor talks to the SLF4J
 *       {@code MDC} facade, whose adapter in the benchmark JVM is Logback's own (Logback's {@code
 *       LogbackServiceProvider}, unless {@code -Dslf4j.provider} names another; the setup checks):
 *       so this row is Micrometer over Logback's MDC, the second peer of {@code
 *       CONTEXTVARS4J_SLF4J}. Micrometer has no map of its own, so the other shapes do not list it.
 * </ul>
 *
 * <h2>The shapes</h2>
 *
 * <ul>
 *   <li>{@link #putRemove}: {@code put("k", v)} then {@code remove("k")}, the MDC otherwise
 *       unchanged. Log4j's map copies its {@code entries} twice; contextvars4j's adapters rebuild
 *       {@code O(log32 entries)} trie nodes and make one {@code ContextVar.set} per change.
 *   <li>{@link #get}: {@code get("request_id")}.
 *   <li>{@link #eventRead}: what the backend takes from the MDC for one log event, then {@code
 *       request_id} read from it. The object taken goes to a {@link Blackhole}, because a real
 *       event keeps it, so its allocation cannot be optimized away; the value read is returned.
 *       <ul>
 *         <li>Logback with {@code LogbackMDCAdapter}: {@code getPropertyMap()}, which Logback's
 *             {@code LoggingEvent} calls for its own adapter. No change happens between two events
 *             here, so this is the kept read-only copy: a {@code ThreadLocal} read. The first event
 *             after a change copies the map ({@code O(entries)}), once per change; that copy is
 *             not measured.
 *         <li>Logback with {@code ContextMDCAdapter}: {@code getCopyOfContextMap()}, which {@code
 *             LoggingEvent} calls for any other adapter; contextvars4j's copy copies nothing until
 *             it is changed.
 *         <li>Log4j with {@code DefaultThreadContextMap}: what log4j-core 2.26's {@code
 *             ThreadContextDataInjector.ForDefaultThreadContextMap} does for a logger without
 *             properties: wrap the map's immutable {@code getImmutableMapOrNull()} in a frozen
 *             {@code JdkMapAdapterStringMap} (no copy of the entries).
 *         <li>Log4j with {@code ContextThreadContextMap}: {@code getReadOnlyContextData()}, what
 *             {@code ForCopyOnWriteThreadContextMap} takes for a {@code CopyOnWrite} map: the
 *             stored value itself.
 *       </ul>
 *   <li>{@link #hop}: handing the MDC to another thread's task, both sides on one thread: the
 *       submitting side's capture, then the receiving side's restore of it, a read of {@code
 *       request_id} and the undo of the restore, which is what a pool thread runs for each task.
 *       <ul>
 *         <li>contextvars4j (both adapters): {@code Context snapshot = Context.copyCurrent()}, then
 *             {@code snapshot.call(() -> adapter.get("request_id"))}: constant time whatever the
 *             MDC holds. It does depend on the sets made since the thread's frame was last folded
 *             (at most 8, {@code ThreadState.MAX_OVERLAY}): the receiving side's {@code call}, on
 *             this same thread, drops the frame's cached mapping, so each {@code copyCurrent()}
 *             rebuilds it from those sets, 40 bytes each. The setup's puts leave 1, 5 and 4 of
 *             them for 1, 5 and 20 entries. A submitting thread pays that rebuild once after its
 *             last set all the same; here it is paid by every hop.
 *         <li>Logback by hand, as users write it today: {@code copy =
 *             adapter.getCopyOfContextMap()}; on the receiving side {@code previous =
 *             adapter.getCopyOfContextMap()}, {@code adapter.setContextMap(copy)}, the read, then
 *             {@code adapter.clear()} if {@code previous} is {@code null}, else {@code
 *             adapter.setContextMap(previous)}.
 *         <li>Log4j by hand: {@code copy = map.getCopy()}; on the receiving side {@code previous =
 *             map.getCopy()}, {@code map.clear()} and {@code map.putAll(copy)}, the read, then
 *             {@code map.clear()} and {@code map.putAll(previous)} (what {@code
 *             ThreadContext.getContext()}, {@code clearMap()} and {@code putAll} do).
 *         <li>Micrometer: {@code snapshot = factory.captureAll()}, then {@code try (Scope s =
 *             snapshot.setThreadLocals()) { MDC.get("request_id") }}: the accessor copies the MDC
 *             at the capture, and sets it ({@code MDC.setContextMap}) after saving the previous
 *             one, which the scope's close puts back.
 *       </ul>
 *       On one thread the receiving side starts from the thread's own MDC, which holds the entries
 *       already: the peers' save of the previous MDC and its restore copy the map too, where a
 *       pool thread, whose MDC is empty between tasks, saves {@code null} and restores with a
 *       clear. So each peer's row holds two copies of the map more than a pool thread makes;
 *       Logback's and Micrometer's three, as the restore also drops Logback's read-only copy,
 *       which the next capture makes again. contextvars4j's receiving side is the same either way
 *       (entering a context does not look at the thread's previous one); its capture pays the
 *       rebuild above. {@link ExecutorHopBenchmark} measures a hand-over between two threads.
 * </ul>
 *
 * <p>Expected: contextvars4j's hop bounded whatever {@code entries} (only the rebuild above, of 8
 * sets at most, varies) and its event read allocating one small object at most; the peers' hops
 * growing with {@code entries} (each copies the map), and Log4j's put + remove too.
 *
 * <p>The shapes' parameter sets differ (Micrometer is only in the hop), so the parameters live in
 * two thread-scoped states, {@link Maps} and {@link Hops}, each filling its MDC in its setup on the
 * benchmark thread and checking it. Run with the rest of the suite by {@code bin/bench}, or alone:
 *
 * {@snippet lang = shell :
 * java -jar contextvars4j-benchmarks/target/benchmarks.jar MdcBenchmark -prof gc
 * }
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class MdcBenchmark {

  /** The key every shape reads. */
  static final String REQUEST_ID = "request_id";

  /** The value of {@link #REQUEST_ID}. */
  static final String REQUEST = "r-42";

  /** The key {@link #putRemove} puts and removes; never one of the entries. */
  static final String KEY = "k";

  /** The value {@link #putRemove} puts. */
  static final String VALUE = "v";

  /** The MDCs compared, as {@link SystemType} lists the context systems. */
  public enum MdcSystem {
    /** contextvars4j-slf4j's {@code ContextMDCAdapter}. */
    CONTEXTVARS4J_SLF4J("contextvars4j ContextMDCAdapter") {
      @Override
      Mdc create() {
        return new ContextMdc();
      }
    },
    /** Logback's {@code LogbackMDCAdapter}. */
    LOGBACK("Logback LogbackMDCAdapter") {
      @Override
      Mdc create() {
        return new LogbackMdc();
      }
    },
    /** contextvars4j-log4j2's {@code ContextThreadContextMap}. */
    CONTEXTVARS4J_LOG4J2("contextvars4j ContextThreadContextMap") {
      @Override
      Mdc create() {
        return new ContextLog4jMdc();
      }
    },
    /** Log4j's {@code DefaultThreadContextMap}. */
    LOG4J2("Log4j DefaultThreadContextMap") {
      @Override
      Mdc create() {
        return new Log4jMdc();
      }
    },
    /** Micrometer's {@code Slf4jThreadLocalAccessor}, over the SLF4J facade's (Logback's) MDC. */
    MICROMETER_LOGBACK("Micrometer Slf4jThreadLocalAccessor (over Logback's MDC)") {
      @Override
      Mdc create() {
        return new MicrometerMdc();
      }
    };

    private final String label;

    MdcSystem(String label) {
      this.label = label;
    }

    /** {@return the name of the system as the report prints it} */
    public String label() {
      return label;
    }

    /** {@return a new adapter of this system, its MDC empty} */
    abstract Mdc create();
  }

  /**
   * One MDC seen through the four shapes. A fork runs one system, so every call below sees one
   * implementation class (monomorphic), as with {@link ContextSystem}. A shape a system cannot do
   * throws {@link UnsupportedOperationException}; its state does not list that system.
   */
  interface Mdc {
    void put(String key, String value);

    String get(String key);

    /** {@return the number of entries, read the system's cheapest way} */
    int size();

    void putRemove();

    Object eventRead(Blackhole bh);

    Object hop();

    void clear();
  }

  /* ---- the states ---- */

  /** The parameters and MDC of put + remove, get and the event read. */
  @State(Scope.Thread)
  public static class Maps {
    @Param({"CONTEXTVARS4J_SLF4J", "LOGBACK", "CONTEXTVARS4J_LOG4J2", "LOG4J2"})
    MdcSystem system;

    @Param({"1", "5", "20"})
    int entries;

    Mdc mdc;

    @Setup
    public void setup() {
      mdc = open(system, entries);
      mdc.putRemove();
      require(mdc.get(KEY) == null, system, "put + remove left the key in the MDC");
      requireFilled(mdc, system, entries, "put + remove");
      Blackhole bh = Checks.blackhole();
      require(REQUEST.equals(mdc.eventRead(bh)), system, "the event did not see " + REQUEST_ID);
      Checks.tenure();
    }

    @TearDown
    public void tearDown() {
      requireFilled(mdc, system, entries, "the measurement");
      mdc.clear();
    }
  }

  /** The parameters and MDC of the hop: Micrometer too. */
  @State(Scope.Thread)
  public static class Hops {
    @Param({
      "CONTEXTVARS4J_SLF4J",
      "LOGBACK",
      "CONTEXTVARS4J_LOG4J2",
      "LOG4J2",
      "MICROMETER_LOGBACK"
    })
    MdcSystem system;

    @Param({"1", "5", "20"})
    int entries;

    Mdc mdc;

    @Setup
    public void setup() {
      mdc = open(system, entries);
      require(REQUEST.equals(mdc.hop()), system, "the receiving side did not see " + REQUEST_ID);
      requireFilled(mdc, system, entries, "a hop");
      Checks.tenure();
    }

    @TearDown
    public void tearDown() {
      requireFilled(mdc, system, entries, "the measurement");
      mdc.clear();
    }
  }

  /** Creates the system's MDC and fills it, on the benchmark thread. */
  static Mdc open(MdcSystem system, int entries) {
    Mdc mdc = system.create();
    mdc.put(REQUEST_ID, REQUEST);
    for (int i = 1; i < entries; i++) {
      mdc.put("k" + i, "v" + i);
    }
    requireFilled(mdc, system, entries, "the setup");
    return mdc;
  }

  /** Checks that the MDC holds {@code entries} keys, {@link #REQUEST_ID} with its value. */
  static void requireFilled(Mdc mdc, MdcSystem system, int entries, String after) {
    require(REQUEST.equals(mdc.get(REQUEST_ID)), system, REQUEST_ID + " is wrong after " + after);
    require(
        mdc.size() == entries,
        system,
        "the MDC holds " + mdc.size() + " entries after " + after + ", not " + entries);
  }

  static void require(boolean condition, MdcSystem system, String what) {
    Checks.require(condition, system.name(), what);
  }


  /* ---- the shapes ---- */

  /** Puts a key that is not in the MDC and removes it again. */
  @Benchmark
  public void putRemove(Maps maps) {
    maps.mdc.putRemove();
  }

  /** Reads {@code request_id}. */
  @Benchmark
  public Object get(Maps maps) {
    return maps.mdc.get(REQUEST_ID);
  }

  /** Takes the MDC as the backend does for one log event and reads {@code request_id} from it. */
  @Benchmark
  public Object eventRead(Maps maps, Blackhole bh) {
    return maps.mdc.eventRead(bh);
  }

  /** Captures the MDC, restores it as a receiving thread would, reads it and undoes the restore. */
  @Benchmark
  public Object hop(Hops hops) {
    return hops.mdc.hop();
  }

  /* ---- the systems ---- */

  /** contextvars4j-slf4j: the MDC in the current context. */
  static final class ContextMdc implements Mdc {
    private final ContextMDCAdapter adapter = new ContextMDCAdapter();
    // Made once: the hop's task, as a pool's task is made once by the code that submits it.
    private final Context.CallableOp<String, RuntimeException> read =
        () -> adapter.get(REQUEST_ID);

    @Override
    public void put(String key, String value) {
      adapter.put(key, value);
    }

    @Override
    public String get(String key) {
      return adapter.get(key);
    }

    @Override
    public int size() {
      return adapter.getReadOnlyContextMap().size();
    }

    @Override
    public void putRemove() {
      adapter.put(KEY, VALUE);
      adapter.remove(KEY);
    }

    @Override
    public Object eventRead(Blackhole bh) {
      // What Logback's LoggingEvent takes from an adapter that is not its own.
      Map<String, String> taken = adapter.getCopyOfContextMap();
      bh.consume(taken);
      return taken.get(REQUEST_ID);
    }

    @Override
    public Object hop() {
      Context snapshot = Context.copyCurrent();
      return snapshot.call(read);
    }

    @Override
    public void clear() {
      adapter.clear();
    }
  }

  /** Logback: a HashMap per thread, and its read-only copy kept for events. */
  static final class LogbackMdc implements Mdc {
    private final LogbackMDCAdapter adapter = new LogbackMDCAdapter();

    @Override
    public void put(String key, String value) {
      adapter.put(key, value);
    }

    @Override
    public String get(String key) {
      return adapter.get(key);
    }

    @Override
    public int size() {
      return adapter.getPropertyMap().size();
    }

    @Override
    public void putRemove() {
      adapter.put(KEY, VALUE);
      adapter.remove(KEY);
    }

    @Override
    public Object eventRead(Blackhole bh) {
      // What LoggingEvent.getMDCPropertyMap() takes from Logback's own adapter.
      Map<String, String> taken = adapter.getPropertyMap();
      bh.consume(taken);
      return taken.get(REQUEST_ID);
    }

    @Override
    public Object hop() {
      Map<String, String> copy = copyOfContextMap(); // the submitting side
      Map<String, String> previous = copyOfContextMap(); // the receiving side, from here on
      adapter.setContextMap(copy);
      try {
        return adapter.get(REQUEST_ID);
      } finally {
        if (previous == null) {
          adapter.clear();
        } else {
          adapter.setContextMap(previous);
        }
      }
    }

    @SuppressWarnings("unchecked") // Logback declares the raw Map of SLF4J 1.5's MDCAdapter
    private Map<String, String> copyOfContextMap() {
      return adapter.getCopyOfContextMap();
    }

    @Override
    public void clear() {
      adapter.clear();
    }
  }

  /** contextvars4j-log4j2: the ThreadContext map in the current context. */
  static final class ContextLog4jMdc implements Mdc {
    private final ContextThreadContextMap map = new ContextThreadContextMap();
    // Made once: the hop's task, as a pool's task is made once by the code that submits it.
    private final Context.CallableOp<String, RuntimeException> read = () -> map.get(REQUEST_ID);

    @Override
    public void put(String key, String value) {
      map.put(key, value);
    }

    @Override
    public String get(String key) {
      return map.get(key);
    }

    @Override
    public int size() {
      return map.getReadOnlyContextData().size();
    }

    @Override
    public void putRemove() {
      map.put(KEY, VALUE);
      map.remove(KEY);
    }

    @Override
    public Object eventRead(Blackhole bh) {
      // What ThreadContextDataInjector.ForCopyOnWriteThreadContextMap takes: the stored value.
      StringMap taken = map.getReadOnlyContextData();
      bh.consume(taken);
      return taken.getValue(REQUEST_ID);
    }

    @Override
    public Object hop() {
      Context snapshot = Context.copyCurrent();
      return snapshot.call(read);
    }

    @Override
    public void clear() {
      map.clear();
    }
  }

  /** Log4j: an immutable array-backed map per thread, copied by every change. */
  static final class Log4jMdc implements Mdc {
    private final DefaultThreadContextMap map = new DefaultThreadContextMap();

    @Override
    public void put(String key, String value) {
      map.put(key, value);
    }

    @Override
    public String get(String key) {
      return map.get(key);
    }

    @Override
    public int size() {
      return map.size();
    }

    @Override
    public void putRemove() {
      map.put(KEY, VALUE);
      map.remove(KEY);
    }

    @Override
    public Object eventRead(Blackhole bh) {
      // ThreadContextDataInjector.ForDefaultThreadContextMap.injectContextData, for a logger
      // without properties: ThreadContext.getImmutableContext(), wrapped, frozen, not copied.
      Map<String, String> immutable = map.getImmutableMapOrNull();
      StringMap taken =
          immutable == null || immutable.isEmpty()
              ? ContextDataFactory.emptyFrozenContextData()
              : new JdkMapAdapterStringMap(immutable, true);
      bh.consume(taken);
      return taken.getValue(REQUEST_ID);
    }

    @Override
    public Object hop() {
      Map<String, String> copy = map.getCopy(); // the submitting side
      Map<String, String> previous = map.getCopy(); // the receiving side, from here on
      map.clear();
      map.putAll(copy);
      try {
        return map.get(REQUEST_ID);
      } finally {
        map.clear();
        if (!previous.isEmpty()) {
          map.putAll(previous);
        }
      }
    }

    @Override
    public void clear() {
      map.clear();
    }
  }

  /** Micrometer's accessor over the SLF4J facade's MDC, which must be Logback's. */
  static final class MicrometerMdc implements Mdc {
    private final ContextSnapshotFactory factory =
        ContextSnapshotFactory.builder()
            .contextRegistry(
                new ContextRegistry().registerThreadLocalAccessor(new Slf4jThreadLocalAccessor()))
            .build();

    MicrometerMdc() {
      if (!(MDC.getMDCAdapter() instanceof LogbackMDCAdapter)) {
        throw new IllegalStateException(
            "MICROMETER_LOGBACK measures Micrometer over Logback's MDC, but the SLF4J MDC facade's"
                + " adapter is "
                + MDC.getMDCAdapter().getClass().getName()
                + ": drop -Dslf4j.provider, or set it to"
                + " ch.qos.logback.classic.spi.LogbackServiceProvider");
      }
    }

    @Override
    public void put(String key, String value) {
      MDC.put(key, value);
    }

    @Override
    public String get(String key) {
      return MDC.get(key);
    }

    @Override
    public int size() {
      Map<String, String> copy = MDC.getCopyOfContextMap();
      return copy == null ? 0 : copy.size();
    }

    @Override
    public void putRemove() {
      throw new UnsupportedOperationException(
          "Micrometer has no MDC of its own: its put + remove is Logback's (the LOGBACK row)");
    }

    @Override
    public Object eventRead(Blackhole bh) {
      throw new UnsupportedOperationException(
          "Micrometer has no MDC of its own: its log event reads Logback's (the LOGBACK row)");
    }

    @Override
    @SuppressWarnings("try") // the scope is only closed: that is the undo
    public Object hop() {
      ContextSnapshot snapshot = factory.captureAll();
      try (ContextSnapshot.Scope ignored = snapshot.setThreadLocals()) {
        return MDC.get(REQUEST_ID);
      }
    }

    @Override
    public void clear() {
      MDC.clear();
    }
  }
}
