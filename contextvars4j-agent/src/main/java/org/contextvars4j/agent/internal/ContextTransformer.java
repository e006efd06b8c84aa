package org.contextvars4j.agent.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.dynamic.scaffold.MethodGraph;
import net.bytebuddy.implementation.Implementation;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.pool.TypePool;
import org.jspecify.annotations.Nullable;

/**
 * Applies the agent's visitors to the classes they are for: the JDK's classes by name, the
 * application's subclasses of {@code Thread}, and a second copy of the core's {@code Context} and
 * {@code ThreadState}.
 *
 * <p>This is a plain {@link ClassFileTransformer} rather than Byte Buddy's {@code AgentBuilder}:
 * the classes are known by name, so the builder's matching machinery, and the transformer class it
 * generates at start-up, would cost more than half of the agent's start-up for nothing.
 *
 * <p>Every class is described from its class file, never by reflection on a loaded class:
 * reflection would load the classes in its signatures (ForkJoinTask's name ForkJoinPool) while the
 * agent is transforming, when they cannot be transformed.
 *
 * <p>Thread-safe: the JVM calls it on any thread, for several classes at once.
 */
final class ContextTransformer implements ClassFileTransformer {
  private static final String THREAD = "java/lang/Thread";
  private static final String OBJECT = "java/lang/Object";
  // The core's classes whose initializer a second copy runs at its first use: Context for a
  // context made or copied, ThreadState for any get, set or reset (which need no Context).
  private static final String CORE_CONTEXT = "org/contextvars4j/Context";
  private static final String CORE_THREAD_STATE = "org/contextvars4j/ThreadState";

  // Only the declared methods are looked at: advice needs no view of the class's hierarchy, which
  // another agent may have extended with types that no class file describes. No field, method or
  // type initializer is added: the class keeps its shape, so it can be retransformed.
  private static final ByteBuddy BYTE_BUDDY =
      new ByteBuddy()
          .with(MethodGraph.Compiler.ForDeclaredMethods.INSTANCE)
          .with(Implementation.Context.Disabled.Factory.INSTANCE);

  private final Map<String, List<AsmVisitorWrapper>> jdk;
  private final List<AsmVisitorWrapper> threadSubclasses;
  private final List<AsmVisitorWrapper> secondCopy;
  private final PrintStream out;
  private final boolean log;
  private final Set<String> reported = ConcurrentHashMap.newKeySet();

  /** Per class loader, whether a class (by internal name) is {@code Thread} or extends it. */
  private final Map<ClassLoader, Map<String, Boolean>> threadTypes = new WeakHashMap<>();

  /**
   * The JDK's classes' answer, the same for every loader that asks its parents, as the JDK's own
   * do.
   */
  private final Map<String, Boolean> jdkThreadTypes = new ConcurrentHashMap<>();

  /**
   * @param jdk the visitors of each of the JDK's classes, by internal name
   * @param threadSubclasses the visitors of an application's subclass of {@code Thread}, or none
   * @param secondCopy the visitors of a copy of the core's {@code Context} or {@code ThreadState}
   *     outside the bootstrap loader
   * @param out where failures, and with {@code log} each class instrumented, are reported
   * @param log whether to report each class instrumented
   */
  ContextTransformer(
      Map<String, List<AsmVisitorWrapper>> jdk,
      List<AsmVisitorWrapper> threadSubclasses,
      List<AsmVisitorWrapper> secondCopy,
      PrintStream out,
      boolean log) {
    this.jdk = Map.copyOf(jdk);
    this.threadSubclasses = List.copyOf(threadSubclasses);
    this.secondCopy = List.copyOf(secondCopy);
    this.out = out;
    this.log = log;
  }

  /**
   * Retransforms the classes that were loaded before the agent and that it is for: the JDK's
   * classes, and (when the agent is attached to a running JVM) the application's subclasses of
   * {@code Thread}. One class at a time, so that one the JVM refuses leaves the others done.
   *
   * @param instrumentation the JVM's instrumentation, to which this transformer was added as
   *     able to retransform
   */
  void retransformLoaded(Instrumentation instrumentation) {
    List<Class<?>> targets = new ArrayList<>();
    for (Class<?> type : instrumentation.getAllLoadedClasses()) {
      if (isTarget(type) && instrumentation.isModifiableClass(type)) {
        targets.add(type);
      }
    }
    // Start-up waits for this: with a second processor, a second thread takes half of the
    // classes (each transformation runs on the thread that asks for it; the JVM only swaps the
    // classes one at a time).
    if (targets.size() > 1 && Runtime.getRuntime().availableProcessors() > 1) {
      List<Class<?>> half = targets.subList(0, targets.size() / 2);
      Thread second =
          new Thread(
              () -> retransform(instrumentation, half), "contextvars4j-agent-retransformation");
      second.setDaemon(true);
      second.start();
      retransform(instrumentation, targets.subList(targets.size() / 2, targets.size()));
      boolean interrupted = false;
      while (true) {
        try {
          second.join();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    } else {
      retransform(instrumentation, targets);
    }
  }

  private void retransform(Instrumentation instrumentation, List<Class<?>> types) {
    for (Class<?> type : types) {
      try {
        instrumentation.retransformClasses(type);
      } catch (Throwable e) {
        failed(type.getName(), e);
      }
    }
  }

  private boolean isTarget(Class<?> type) {
    if (type.isHidden() || type.isArray() || type.isPrimitive()) {
      return false;
    }
    if (type.getClassLoader() == null) {
      return jdk.containsKey(type.getName().replace('.', '/'));
    }
    // A second copy of the core that is loaded already has run its initializer: too late to fail.
    return !threadSubclasses.isEmpty() && Thread.class.isAssignableFrom(type);
  }

  @Override
  public byte @Nullable [] transform(
      @Nullable Module module,
      @Nullable ClassLoader loader,
      @Nullable String internalName,
      @Nullable Class<?> classBeingRedefined,
      @Nullable ProtectionDomain domain,
      byte[] bytes) {
    if (internalName == null) {
      return null;
    }
    List<AsmVisitorWrapper> steps;
    try {
      steps = stepsFor(loader, internalName, bytes);
    } catch (Throwable e) {
      // The class file could not be read: it is nothing the agent was after that it can tell.
      if (log) {
        failed(internalName.replace('/', '.'), e);
      }
      return null;
    }
    if (steps == null) {
      return null;
    }
    String name = internalName.replace('/', '.');
    try {
      byte[] transformed = apply(loader, name, bytes, steps);
      if (log) {
        out.println("[contextvars4j-agent] instrumented " + name);
      }
      return transformed;
    } catch (Throwable e) {
      failed(name, e);
      return null;
    }
  }

  private @Nullable List<AsmVisitorWrapper> stepsFor(
      @Nullable ClassLoader loader, String internalName, byte[] bytes) throws IOException {
    if (loader == null) {
      return jdk.get(internalName);
    }
    if (internalName.equals(CORE_CONTEXT) || internalName.equals(CORE_THREAD_STATE)) {
      return secondCopy;
    }
    if (threadSubclasses.isEmpty()) {
      return null;
    }
    String superName = new ClassReader(bytes).getSuperName();
    return superName != null && isThreadType(loader, superName) ? threadSubclasses : null;
  }

  /** Whether the class of that internal name, seen from that loader, is a {@code Thread}. */
  private boolean isThreadType(ClassLoader loader, String internalName) throws IOException {
    // Walks the superclasses through their class files: a superclass is loaded after the class
    // that names it is transformed, so it cannot be asked by reflection.
    if (internalName.equals(THREAD)) {
      return true;
    }
    if (internalName.equals(OBJECT)) {
      return false;
    }
    Map<String, Boolean> known = knownFor(loader, internalName);
    Boolean answer = known.get(internalName);
    if (answer == null) {
      String superName = superNameOf(loader, internalName);
      answer = superName != null && isThreadType(loader, superName);
      known.put(internalName, answer);
    }
    return answer;
  }

  private Map<String, Boolean> knownFor(ClassLoader loader, String internalName) {
    if (isJdkName(internalName)) {
      return jdkThreadTypes;
    }
    synchronized (threadTypes) {
      return threadTypes.computeIfAbsent(loader, l -> new ConcurrentHashMap<>());
    }
  }

  private static boolean isJdkName(String internalName) {
    return internalName.startsWith("java/")
        || internalName.startsWith("javax/")
        || internalName.startsWith("jdk/")
        || internalName.startsWith("sun/")
        || internalName.startsWith("com/sun/");
  }

  /** The superclass named by a class file the loader finds, or {@code null} if it finds none. */
  private static @Nullable String superNameOf(ClassLoader loader, String internalName)
      throws IOException {
    try (InputStream in = loader.getResourceAsStream(internalName + ".class")) {
      return in == null ? null : new ClassReader(in.readAllBytes()).getSuperName();
    }
  }

  private static byte[] apply(
      @Nullable ClassLoader loader, String name, byte[] bytes, List<AsmVisitorWrapper> steps) {
    // The class's own bytes first: they may be another agent's version of it.
    ClassFileLocator locator =
        new ClassFileLocator.Compound(
            ClassFileLocator.Simple.of(name, bytes),
            loader == null
                ? ClassFileLocator.ForClassLoader.ofBootLoader()
                : ClassFileLocator.ForClassLoader.of(loader));
    TypePool pool =
        new TypePool.Default.WithLazyResolution(
            new TypePool.CacheProvider.Simple(), locator, TypePool.Default.ReaderMode.FAST);
    DynamicType.Builder<?> builder = BYTE_BUDDY.decorate(pool.describe(name).resolve(), locator);
    for (AsmVisitorWrapper step : steps) {
      builder = builder.visit(step);
    }
    return builder.make(pool).getBytes();
  }

  private void failed(String name, Throwable error) {
    // A class that could not even be described (another agent's, made at run time) is not one
    // this agent was after, unless it is one of the JDK's it names; each is reported once.
    if (!reported.add(name)) {
      return;
    }
    out.println(
        "[contextvars4j-agent] could not instrument "
            + name
            + ", which is left as it is: "
            + error);
    if (log) {
      error.printStackTrace(out);
    }
  }
}
