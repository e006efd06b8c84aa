package org.contextvars4j.benchmarks;

import ch.qos.logback.classic.util.LogbackMDCAdapter;
import io.opentelemetry.context.ContextKey;
import io.opentelemetry.context.ContextStorage;
import io.opentelemetry.extension.kotlin.ContextExtensionsKt;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import kotlin.coroutines.CoroutineContext;
import kotlin.coroutines.EmptyCoroutineContext;
import kotlinx.coroutines.slf4j.MDCContext;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.contextvars4j.kotlin.ContextElement;
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
import org.slf4j.MDC;

/**
 * What a Kotlin coroutine pays per resume for the values its context element carries: one
 * coroutine on {@code Dispatchers.Default} that suspends and resumes {@value #RESUMES} times
 * ({@code yield()}, which dispatches it again each time) and reads a carried value after each
 * resume, started from the benchmark thread with {@code runBlocking { withContext(Dispatchers.Default
 * + element) { ... } }} and waited for (the workload is Kotlin, {@code CoroutineResumes.kt}, as a
 * suspend lambda cannot be written in Java). Scores are per resume ({@code
 * OperationsPerInvocation}): each invocation's start of the coroutine and hand-back to the
 * benchmark thread are spread over its {@value #RESUMES} resumes, and {@link #floor}, which carries
 * nothing, measures them with the resumes themselves.
 *
 * <p>kotlinx.coroutines calls the element's {@code updateThreadContext} on the pool thread before
 * each start and resume, and its {@code restoreThreadContext} after each suspension. The systems
 * ({@link Carrier}), each holding {@code entries} values:
 *
 * <ul>
 *   <li>{@code CONTEXTVARS4J}: contextvars4j-kotlin's {@code ContextElement.copyCurrent()}, taken
 *       in a context where {@code entries} {@code ContextVar}s are bound; the coroutine runs in a
 *       copy of that context of its own, entered on each resume and left on each suspension,
 *       whatever it holds. The body reads the last variable bound, {@code var.getOrDefault(null)}.
 *   <li>{@code MDC_CONTEXT}: kotlinx-coroutines-slf4j's {@code MDCContext()}, taken when SLF4J's
 *       MDC holds {@code entries} keys ({@code request_id}, {@code k1}, {@code k2}, …), over the
 *       MDC facade's adapter in the benchmark JVM, Logback's {@code LogbackMDCAdapter} (the setup
 *       checks). Each resume saves the pool thread's MDC ({@code MDC.getCopyOfContextMap()}) and
 *       sets the element's map ({@code MDC.setContextMap}, which Logback copies); each suspension
 *       puts the saved one back (a {@code clear()} on a pool thread, whose MDC is empty between
 *       tasks). The body reads {@code MDC.get("request_id")}.
 *   <li>{@code OPENTELEMETRY}: opentelemetry-extension-kotlin's {@code context.asContextElement()}
 *       of an OpenTelemetry {@code Context} holding {@code entries} {@code ContextKey}s, on
 *       OpenTelemetry's default storage (a {@code ThreadLocal}; the benchmark JVM also holds {@code
 *       contextvars4j-opentelemetry}'s provider, so the fork asks for the default storage with
 *       {@code -Dio.opentelemetry.context.contextStorageProvider=default}, and the setup checks):
 *       each resume is a {@code makeCurrent()}, each suspension the {@code close()} of its scope.
 *       The body reads {@code Context.current().get(key)} of the last key.
 *   <li>{@link #floor}: no element at all; the body's read is a constant.
 * </ul>
 *
 * <p>Each element is made once, in the setup, as a server makes one per request: what is measured
 * is the resume, not the making ({@code MDCContext()} copies the MDC's map, {@code copyCurrent()}
 * takes an {@code O(1)} copy of the context). Each coroutine's start, spread over its resumes, is
 * measured: there contextvars4j's element copies its context for the coroutine ({@code O(1)}), the
 * others copy nothing.
 *
 * <p>Expected: contextvars4j flat in {@code entries} (the enter and leave of a context, {@code
 * O(1)}), as OpenTelemetry's element is (a {@code ThreadLocal} swap); {@code MDCContext} growing
 * with {@code entries} in time and in bytes, as it copies the map on each resume.
 *
 * <p>Checks, so that a broken element fails the run instead of reporting a fast number: the setup
 * runs the coroutine once recording, after each resume, the pool thread it runs on and how many of
 * the {@code entries} values it sees (all of them, on a {@code DefaultDispatcher-worker} thread),
 * and counts with an element of its own that the coroutine's context was entered {@value #RESUMES}
 * + 1 times; then runs a coroutine without the element on the same pool, which must see none of
 * the values (the element left each thread at each suspension), and checks that the benchmark
 * thread sees none. The teardown repeats the checks. Every invocation fails unless the body saw its
 * value after each of its {@value #RESUMES} resumes.
 *
 * {@snippet lang = shell :
 * java -jar contextvars4j-benchmarks/target/benchmarks.jar CoroutineResumeBenchmark -prof gc
 * }
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
    value = 2,
    jvmArgsAppend = {
      "-Xms1g",
      "-Xmx1g",
      "--sun-misc-unsafe-memory-access=allow",
      "-D" + CoroutineResumeBenchmark.STORAGE_PROPERTY + "=default"
    })
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class CoroutineResumeBenchmark {

  /** The number of times each invocation's coroutine suspends and resumes. */
  static final int RESUMES = 100;

  /** The property by which OpenTelemetry picks its context storage, once per JVM. */
  static final String STORAGE_PROPERTY = "io.opentelemetry.context.contextStorageProvider";

  /** The prefix of the names of {@code Dispatchers.Default}'s threads. */
  private static final String POOL_THREAD = "DefaultDispatcher-worker-";

  /** What carries the values into the coroutine. */
  public enum Carrier {
    /** contextvars4j-kotlin's {@code ContextElement.copyCurrent()}, over {@code ContextVar}s. */
    CONTEXTVARS4J {
      @Override
      Values fill(int entries) {
        return new ContextVarValues(entries);
      }
    },
    /** kotlinx-coroutines-slf4j's {@code MDCContext()}, over Logback's MDC. */
    MDC_CONTEXT {
      @Override
      Values fill(int entries) {
        return new MdcValues(entries);
      }
    },
    /** OpenTelemetry's {@code Context.asContextElement()}, on its default storage. */
    OPENTELEMETRY {
      @Override
      Values fill(int entries) {
        return new OpenTelemetryValues(entries);
      }
    };

    /** {@return the carrier's element holding {@code entries} values, made on this thread} */
    abstract Values fill(int entries);
  }

  /** The parameters of {@link #resume}, its element and what its coroutine reads. */
  @State(Scope.Thread)
  public static class Carried {
    @Param({"CONTEXTVARS4J", "MDC_CONTEXT", "OPENTELEMETRY"})
    Carrier system;

    @Param({"1", "5", "20"})
    int entries;

    Values values;
    CoroutineContext element;
    BooleanSupplier read;

    @Setup
    public void setup() {
      values = system.fill(entries);
      element = values.element;
      read = values::readOne;
      verify();
      Checks.tenure();
    }

    @TearDown
    public void tearDown() {
      verify();
    }

    private void verify() {
      String name = system.name();
      Checks.require(
          values.visible() == 0, name, "the benchmark thread sees values of the element");
      requireResumes(name, element, () -> values.visible() + " of " + entries + " values", entries);
      int seen = CoroutineResumes.resumes(RESUMES, element, read);
      Checks.require(
          seen == RESUMES,
          name,
          "the coroutine saw its value after " + seen + " of " + RESUMES + " resumes");
      int leaked = CoroutineResumes.resumes(RESUMES, EmptyCoroutineContext.INSTANCE, read);
      Checks.require(
          leaked == 0,
          name,
          "a coroutine without the element saw its value after "
              + leaked
              + " resumes: the element did not leave the pool's threads");
      Checks.require(
          values.visible() == 0, name, "the benchmark thread sees values of the element");
    }
  }

  /** The floor's coroutine: no element. */
  @State(Scope.Thread)
  public static class Floor {
    final CoroutineContext element = EmptyCoroutineContext.INSTANCE;
    final BooleanSupplier read = () -> true;

    @Setup
    public void setup() {
      verify();
      Checks.tenure();
    }

    @TearDown
    public void tearDown() {
      verify();
    }

    private void verify() {
      requireResumes("floor", element, () -> "no values", -1);
      int seen = CoroutineResumes.resumes(RESUMES, element, read);
      Checks.require(seen == RESUMES, "floor", "the coroutine read after " + seen + " resumes");
    }
  }

  /**
   * Runs the coroutine once, recording what {@code probe} says after each resume, and throws
   * unless its context was entered {@value #RESUMES} + 1 times and each resume ran on a pool
   * thread where {@code probe} found {@code entries} of {@code entries} values ({@code entries} -1:
   * anything).
   */
  static void requireResumes(
      String system, CoroutineContext element, Supplier<String> probe, int entries) {
    Observation observed =
        CoroutineResumes.observe(
            RESUMES, element, () -> Thread.currentThread().getName() + ": " + probe.get());
    Checks.require(
        observed.getEntries() == RESUMES + 1,
        system,
        "the coroutine's context was entered "
            + observed.getEntries()
            + " times, not "
            + (RESUMES + 1)
            + " (its start and "
            + RESUMES
            + " resumes)");
    List<String> probes = observed.getProbes();
    Checks.require(probes.size() == RESUMES, system, probes.size() + " probes");
    String all = entries < 0 ? "" : ": " + entries + " of " + entries + " values";
    for (String seen : probes) {
      Checks.require(
          seen.startsWith(POOL_THREAD) && seen.endsWith(all),
          system,
          "after a resume the coroutine saw \""
              + seen
              + "\", not"
              + (all.isEmpty() ? "" : " \"" + all.substring(2) + "\"")
              + " on a thread of Dispatchers.Default");
    }
  }

  /** Runs the coroutine, which carries the values, through {@value #RESUMES} resumes. */
  @Benchmark
  @OperationsPerInvocation(RESUMES)
  public int resume(Carried carried) {
    int seen = CoroutineResumes.resumes(RESUMES, carried.element, carried.read);
    if (seen != RESUMES) {
      Checks.require(
          false,
          carried.system.name(),
          "the coroutine saw its value after " + seen + " of " + RESUMES + " resumes");
    }
    return seen;
  }

  /** Runs the coroutine without any element through {@value #RESUMES} resumes: the floor. */
  @Benchmark
  @OperationsPerInvocation(RESUMES)
  public int floor(Floor floor) {
    return CoroutineResumes.resumes(RESUMES, floor.element, floor.read);
  }

  /* ---- the systems ---- */

  /** One carrier's element and its values, as the coroutine's body and the checks read them. */
  abstract static class Values {
    final CoroutineContext element;

    Values(CoroutineContext element) {
      this.element = element;
    }

    /** {@return whether the calling thread sees the value the benchmark's body reads} */
    abstract boolean readOne();

    /** {@return how many of the element's values the calling thread sees} */
    abstract int visible();
  }

  /** contextvars4j: the element copied from a context where the variables are bound. */
  static final class ContextVarValues extends Values {
    private final ContextVar<Object>[] vars;
    private final ContextVar<Object> last;

    ContextVarValues(int entries) {
      this(variables(entries));
    }

    private ContextVarValues(ContextVar<Object>[] vars) {
      super(
          new Context()
              .call(
                  () -> {
                    for (int i = 0; i < vars.length - 1; i++) {
                      vars[i].set(Integer.valueOf(i));
                    }
                    vars[vars.length - 1].set(ContextSystem.VALUE);
                    return ContextElement.copyCurrent();
                  }));
      this.vars = vars;
      this.last = vars[vars.length - 1];
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static ContextVar<Object>[] variables(int entries) {
      ContextVar<Object>[] vars = new ContextVar[entries];
      for (int i = 0; i < entries; i++) {
        vars[i] = ContextVar.named("var" + i);
      }
      return vars;
    }

    @Override
    boolean readOne() {
      return last.getOrDefault(null) == ContextSystem.VALUE;
    }

    @Override
    int visible() {
      int count = readOne() ? 1 : 0;
      for (int i = 0; i < vars.length - 1; i++) {
        if (Integer.valueOf(i).equals(vars[i].getOrDefault(null))) {
          count++;
        }
      }
      return count;
    }
  }

  /** kotlinx-coroutines-slf4j: the element copied from the MDC holding the entries. */
  static final class MdcValues extends Values {
    private final int entries;

    MdcValues(int entries) {
      super(filledMdcContext(entries));
      this.entries = entries;
      int held = ((MDCContext) element).getContextMap().size();
      Checks.require(held == entries, "MDC_CONTEXT", "the element holds " + held + " entries");
    }

    private static MDCContext filledMdcContext(int entries) {
      Checks.require(
          MDC.getMDCAdapter() instanceof LogbackMDCAdapter,
          "MDC_CONTEXT",
          "the SLF4J MDC facade's adapter is "
              + MDC.getMDCAdapter().getClass().getName()
              + ", not Logback's LogbackMDCAdapter: drop -Dslf4j.provider");
      MDC.clear();
      MDC.put(MdcBenchmark.REQUEST_ID, MdcBenchmark.REQUEST);
      for (int i = 1; i < entries; i++) {
        MDC.put("k" + i, "v" + i);
      }
      MDCContext element = new MDCContext();
      // Only the element carries the entries: the benchmark thread's MDC is empty again.
      MDC.clear();
      return element;
    }

    @Override
    boolean readOne() {
      return MdcBenchmark.REQUEST.equals(MDC.get(MdcBenchmark.REQUEST_ID));
    }

    @Override
    int visible() {
      int count = readOne() ? 1 : 0;
      for (int i = 1; i < entries; i++) {
        if (("v" + i).equals(MDC.get("k" + i))) {
          count++;
        }
      }
      return count;
    }
  }

  /** OpenTelemetry: the element of a context holding the keys, on the default storage. */
  static final class OpenTelemetryValues extends Values {
    private final ContextKey<Object>[] keys;
    private final ContextKey<Object> last;

    OpenTelemetryValues(int entries) {
      this(keys(entries));
    }

    private OpenTelemetryValues(ContextKey<Object>[] keys) {
      super(ContextExtensionsKt.asContextElement(filled(keys)));
      this.keys = keys;
      this.last = keys[keys.length - 1];
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static ContextKey<Object>[] keys(int entries) {
      ContextKey<Object>[] keys = new ContextKey[entries];
      for (int i = 0; i < entries; i++) {
        keys[i] = ContextKey.named("var" + i);
      }
      return keys;
    }

    private static io.opentelemetry.context.Context filled(ContextKey<Object>[] keys) {
      // The fork's -D names the default storage; a -jvmArgsAppend on the command line replaces
      // the fork's arguments, so ask here too, before OpenTelemetry's first use in this JVM.
      if (System.getProperty(STORAGE_PROPERTY) == null) {
        System.setProperty(STORAGE_PROPERTY, "default");
      }
      ContextStorage storage = ContextStorage.get();
      Checks.require(
          storage.getClass() == ContextStorage.defaultStorage().getClass(),
          "OPENTELEMETRY",
          "the context storage in use is "
              + storage.getClass().getName()
              + ", not OpenTelemetry's default: set -D"
              + STORAGE_PROPERTY
              + "=default");
      io.opentelemetry.context.Context context = io.opentelemetry.context.Context.root();
      for (int i = 0; i < keys.length - 1; i++) {
        context = context.with(keys[i], Integer.valueOf(i));
      }
      return context.with(keys[keys.length - 1], ContextSystem.VALUE);
    }

    @Override
    boolean readOne() {
      return io.opentelemetry.context.Context.current().get(last) == ContextSystem.VALUE;
    }

    @Override
    int visible() {
      io.opentelemetry.context.Context current = io.opentelemetry.context.Context.current();
      int count = current.get(last) == ContextSystem.VALUE ? 1 : 0;
      for (int i = 0; i < keys.length - 1; i++) {
        if (Integer.valueOf(i).equals(current.get(keys[i]))) {
          count++;
        }
      }
      return count;
    }
  }
}
