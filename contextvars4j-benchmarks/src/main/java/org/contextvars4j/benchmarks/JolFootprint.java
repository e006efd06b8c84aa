package org.contextvars4j.benchmarks;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.openjdk.jol.info.GraphLayout;
import org.openjdk.jol.vm.VM;

/**
 * Operation 7 (not JMH): the memory of {@value #CONTEXTS} contexts each differing from one shared
 * base of {@value #VARS} variables by one set, measured with JOL ({@code
 * GraphLayout.parseInstance(...).totalSize()}: every object reachable, each counted once).
 *
 * <ul>
 *   <li>contextvars4j: a base {@code Context} in which the {@value #VARS} variables are set, then
 *       {@value #CONTEXTS} times {@code base.copy()} and, run in the copy, a set of one variable
 *       (the i-th context sets variable {@code i % 100}). The copies share the base's immutable
 *       trie;
 *   <li>{@code HashMap}: the same as a base map and, per context, {@code new HashMap<>(base)} with
 *       one {@code put}: a full copy per context;
 *   <li>for reference, OpenTelemetry ({@code base.with(key, v)}: a copy of its key/value array per
 *       context) and gRPC ({@code base.withValue(key, v)}: a child context over a trie path copy).
 * </ul>
 *
 * The keys and values themselves (the same objects in every context) are not counted: the sizes
 * are those of the graph minus the graph of the keys and values alone, minus the array holding
 * the {@value #CONTEXTS} contexts. Prints a Markdown table to standard output. Run by {@code
 * bin/bench}, or alone:
 *
 * <pre>{@code
 * java -Djdk.attach.allowAttachSelf=true -XX:+EnableDynamicAgentLoading \
 *   --sun-misc-unsafe-memory-access=allow \
 *   -cp contextvars4j-benchmarks/target/benchmarks.jar org.contextvars4j.benchmarks.JolFootprint
 * }</pre>
 *
 * JOL reads object sizes through an instrumentation agent it attaches to its own VM (hence the
 * first two flags) and field values through {@code sun.misc.Unsafe} (the third, from JDK 24, keeps
 * the VM from warning about it).
 */
public final class JolFootprint {
  static final int VARS = 100;
  static final int CONTEXTS = 10_000;

  private JolFootprint() {}

  /** One measured structure: the base alone, and the base with all contexts. */
  private record Footprint(String system, long base, long all) {
    long perContext() {
      return (all - base) / CONTEXTS;
    }
  }

  public static void main(String[] args) {
    Object[] values = new Object[VARS];
    for (int i = 0; i < VARS; i++) {
      values[i] = new Object();
    }
    Object changed = new Object();

    Footprint[] rows = {
      contextvars4j(values, changed), hashMap(values, changed), openTelemetry(values, changed),
      grpc(values, changed)
    };

    System.out.printf(
        Locale.ROOT,
        "%,d contexts, each the shared base of %d variables with one variable set to another"
            + " value. JOL %s (%s).%n%n",
        CONTEXTS,
        VARS,
        GraphLayout.class.getPackage().getImplementationVersion() == null
            ? "0.17"
            : GraphLayout.class.getPackage().getImplementationVersion(),
        vmLine());
    System.out.println(
        "| structure | base alone (bytes) | base + 10,000 contexts (bytes) | per context (bytes) |"
            + " vs HashMap |");
    System.out.println("|---|---:|---:|---:|---:|");
    long hashMapPer = rows[1].perContext();
    for (Footprint row : rows) {
      System.out.printf(
          Locale.ROOT,
          "| %s | %,d | %,d | %,d | %.3f |%n",
          row.system(),
          row.base(),
          row.all(),
          row.perContext(),
          (double) row.perContext() / hashMapPer);
    }
  }

  /** The VM's object layout as JOL sees it: its mode, reference and class-pointer compression. */
  private static String vmLine() {
    String[] lines = VM.current().details().split("\n");
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < Math.min(4, lines.length); i++) {
      line.append(i == 0 ? "" : "; ").append(lines[i].replace("# ", "").trim());
    }
    return line.toString();
  }

  /** Size of what {@code roots} reach, minus the size of what {@code shared} reaches. */
  private static long sizeWithout(Object[] shared, Object... roots) {
    return GraphLayout.parseInstance(roots).totalSize()
        - GraphLayout.parseInstance(shared).totalSize();
  }

  /** The size of the array holding the contexts (references only), which is not counted. */
  private static long arrayOfContexts() {
    return GraphLayout.parseInstance((Object) new Object[CONTEXTS]).totalSize();
  }

  private static Footprint contextvars4j(Object[] values, Object changed) {
    @SuppressWarnings({"unchecked", "rawtypes"})
    ContextVar<Object>[] vars = new ContextVar[VARS];
    for (int i = 0; i < VARS; i++) {
      vars[i] = ContextVar.named("var" + i);
    }
    Context base = new Context();
    base.run(
        () -> {
          for (int i = 0; i < VARS; i++) {
            vars[i].set(values[i]);
          }
        });
    Context[] contexts = new Context[CONTEXTS];
    for (int c = 0; c < CONTEXTS; c++) {
      Context context = base.copy();
      ContextVar<Object> var = vars[c % VARS];
      context.run(() -> var.set(changed));
      contexts[c] = context;
    }
    check(base.get(vars[7]) == values[7] && contexts[7].get(vars[7]) == changed, "contextvars4j");
    Object[] shared = {vars, values, changed};
    long baseSize = sizeWithout(shared, base, vars, values, changed);
    long allSize =
        sizeWithout(shared, base, contexts, vars, values, changed)
            - arrayOfContexts();
    return new Footprint("contextvars4j `Context` (copy + one set)", baseSize, allSize);
  }

  private static Footprint hashMap(Object[] values, Object changed) {
    @SuppressWarnings({"unchecked", "rawtypes"})
    ContextVar<Object>[] vars = new ContextVar[VARS];
    for (int i = 0; i < VARS; i++) {
      vars[i] = ContextVar.named("var" + i);
    }
    Map<Object, Object> base = new HashMap<>();
    for (int i = 0; i < VARS; i++) {
      base.put(vars[i], values[i]);
    }
    @SuppressWarnings({"unchecked", "rawtypes"})
    Map<Object, Object>[] contexts = new Map[CONTEXTS];
    for (int c = 0; c < CONTEXTS; c++) {
      Map<Object, Object> copy = new HashMap<>(base);
      copy.put(vars[c % VARS], changed);
      contexts[c] = copy;
    }
    Object[] shared = {vars, values, changed};
    long baseSize = sizeWithout(shared, base, vars, values, changed);
    long allSize =
        sizeWithout(shared, base, contexts, vars, values, changed)
            - arrayOfContexts();
    return new Footprint("`HashMap` copy + one put", baseSize, allSize);
  }

  private static Footprint openTelemetry(Object[] values, Object changed) {
    @SuppressWarnings({"unchecked", "rawtypes"})
    io.opentelemetry.context.ContextKey<Object>[] keys =
        new io.opentelemetry.context.ContextKey[VARS];
    io.opentelemetry.context.Context base = io.opentelemetry.context.Context.root();
    for (int i = 0; i < VARS; i++) {
      keys[i] = io.opentelemetry.context.ContextKey.named("var" + i);
      base = base.with(keys[i], values[i]);
    }
    io.opentelemetry.context.Context[] contexts = new io.opentelemetry.context.Context[CONTEXTS];
    for (int c = 0; c < CONTEXTS; c++) {
      contexts[c] = base.with(keys[c % VARS], changed);
    }
    Object[] shared = {keys, values, changed};
    long baseSize = sizeWithout(shared, base, keys, values, changed);
    long allSize =
        sizeWithout(shared, base, contexts, keys, values, changed)
            - arrayOfContexts();
    return new Footprint("OpenTelemetry `Context.with` (reference)", baseSize, allSize);
  }

  private static Footprint grpc(Object[] values, Object changed) {
    @SuppressWarnings({"unchecked", "rawtypes"})
    io.grpc.Context.Key<Object>[] keys = new io.grpc.Context.Key[VARS];
    io.grpc.Context base = io.grpc.Context.ROOT;
    for (int i = 0; i < VARS; i++) {
      keys[i] = io.grpc.Context.key("var" + i);
      base = base.withValue(keys[i], values[i]);
    }
    io.grpc.Context[] contexts = new io.grpc.Context[CONTEXTS];
    for (int c = 0; c < CONTEXTS; c++) {
      contexts[c] = base.withValue(keys[c % VARS], changed);
    }
    Object[] shared = {keys, values, changed};
    long baseSize = sizeWithout(shared, base, keys, values, changed);
    long allSize =
        sizeWithout(shared, base, contexts, keys, values, changed)
            - arrayOfContexts();
    return new Footprint(
        "gRPC `Context.withValue` (reference; base is a chain of 100 contexts)",
        baseSize,
        allSize);
  }

  private static void check(boolean condition, String what) {
    if (!condition) {
      throw new IllegalStateException(what + ": the contexts do not hold the expected values");
    }
  }
}
