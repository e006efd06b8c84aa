package org.contextvars4j.agent.internal;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.namedOneOf;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.matcher.ElementMatchers;
import net.bytebuddy.pool.TypePool;
import org.jspecify.annotations.Nullable;

/**
 * Installs the instrumentation. Called once, by {@link org.contextvars4j.agent.ContextAgent}, from
 * the bootstrap class loader.
 *
 * <h2>What is instrumented</h2>
 *
 * <ul>
 *   <li>{@code ThreadPoolExecutor.execute} (hence {@code submit}, {@code invokeAll}, {@code
 *       invokeAny}, and every subclass that does not override it), {@code
 *       ScheduledThreadPoolExecutor.schedule}, {@code scheduleAtFixedRate}, {@code
 *       scheduleWithFixedDelay} (a periodic task starts every run from the values captured when
 *       it was scheduled), every submission to a {@code ForkJoinPool} and {@code
 *       ForkJoinTask.fork()} (hence parallel streams), {@code ForkJoinPool.schedule...}, the JDK's
 *       thread-per-task executors and {@code CompletableFuture.delayedExecutor}: the task runs in
 *       a copy of the context current where it was handed over. A pool's worker, its {@code
 *       beforeExecute}/{@code afterExecute} hooks, {@code shutdownNow()} and {@code remove} see the
 *       caller's own task. What the core carried already ({@code ContextExecutors}, {@code
 *       ContextFutures}, {@code Context.wrap}) is not carried again.
 *   <li>{@code CompletableFuture}: the function of every stage, dependent or asynchronous, runs in
 *       a copy of the context current where the stage was attached, whichever thread completes
 *       the future.
 *   <li>{@code Timer}: each run of a {@code TimerTask} starts from a copy of the context current
 *       where it was scheduled.
 *   <li>Threads: a platform or virtual thread runs in a copy of the context current where it was
 *       started; except the threads that a {@code ThreadPoolExecutor}, a {@code ForkJoinPool} or a
 *       {@code Timer} starts for itself, and the JDK's own thread classes, which start empty (so
 *       does the event loop a fixed-pool NIO.2 channel group hands to its pool).
 *   <li>A second copy of the core, defined by a class loader that did not ask its parent, fails at
 *       its first use with a message that says what to do.
 * </ul>
 *
 * <h2>Options</h2>
 *
 * {@code -javaagent:contextvars4j-agent-VERSION.jar=option,option...}:
 *
 * <ul>
 *   <li>{@code threads=empty}: threads start in an empty context (PEP 567's default); the default
 *       is {@code threads=inherit}.
 *   <li>{@code skip=executors|futures|threads|timers}: leave that part out (repeat the option to
 *       skip several).
 *   <li>{@code log}: print each class instrumented, and the time the agent took to install, to
 *       standard error.
 * </ul>
 *
 * <p>An instrumentation that fails is reported once on standard error and skipped; the
 * application runs on.
 *
 * <p>This class is internal and is hence not for public use.
 */
public final class Installer {
  private Installer() {}

  /**
   * Installs the instrumentation.
   *
   * @param options the agent's options, or {@code null}
   * @param instrumentation the JVM's instrumentation
   * @throws IllegalArgumentException if an option is not understood
   */
  public static void install(@Nullable String options, Instrumentation instrumentation) {
    long start = System.nanoTime();
    Options parsed = Options.parse(options);
    // The JDK's classes call the agent's, which are in the bootstrap loader's unnamed module; the
    // agent reads what the JDK's task adapters hold (Adapted).
    Module agent = Installer.class.getModule();
    instrumentation.redefineModule(
        Object.class.getModule(),
        Set.of(agent),
        Map.of(),
        Map.of("java.util.concurrent", Set.of(agent)),
        Set.of(),
        Map.of());
    Propagation.threadsInherit(parsed.threadsInherit());

    Map<String, List<AsmVisitorWrapper>> jdk = new HashMap<>();
    if (!parsed.skips("executors")) {
      add(
          jdk,
          "java.util.concurrent.ThreadPoolExecutor",
          advice(Advices.RunnableArgument.class, named("execute").and(takesArguments(Runnable.class))),
          advice(Advices.ShutdownNow.class, named("shutdownNow").and(takesArguments(0))),
          // The worker and the hooks see the caller's own task; it runs bound.
          advice(Advices.TakenTask.class, named("getTask").and(takesArguments(0))),
          advice(Advices.WorkerRunning.class, named("runWorker")),
          CallRedirect.of(
              named("runWorker"), Opcodes.INVOKEINTERFACE, "java/lang/Runnable", "run", "runTaken"),
          advice(Advices.Remove.class, named("remove").and(takesArguments(Runnable.class))));
      add(
          jdk,
          "java.util.concurrent.ThreadPoolExecutor$Worker",
          // Its one constructor: (the pool, the first task).
          advice(Advices.WorkerFirstTask.class, ElementMatchers.isConstructor()));
      // A channel group's event loop, handed to its pool as the group starts: it is the group's
      // own, and starts empty like the pool's threads.
      add(
          jdk,
          "sun.nio.ch.AsynchronousChannelGroupImpl",
          advice(
              Advices.OwnThreads.class, named("startThreads").and(takesArguments(Runnable.class))));
      // A thread per task: the task is bound, whether threads inherit or not.
      add(
          jdk,
          "java.util.concurrent.ThreadPerTaskExecutor",
          advice(
              Advices.RunnableArgument.class,
              namedOneOf("execute", "submit")
                  .and(takesArguments(1).or(takesArguments(2)))
                  .and(takesArgument(0, Runnable.class))),
          advice(
              Advices.CallableArgument.class,
              named("submit").and(takesArguments(Callable.class))));
      // Handed to the pool later, by the delayer's thread: bound where it is scheduled.
      add(
          jdk,
          "java.util.concurrent.CompletableFuture$DelayedExecutor",
          advice(Advices.RunnableArgument.class, named("execute").and(takesArguments(Runnable.class))));
      add(
          jdk,
          "java.util.concurrent.ScheduledThreadPoolExecutor",
          advice(
              Advices.RunnableArgument.class,
              schedulesRunnable()),
          advice(
              Advices.CallableArgument.class,
              named("schedule").and(takesArguments(3)).and(takesArgument(0, Callable.class))));
      add(
          jdk,
          "java.util.concurrent.ForkJoinPool",
          // Every submission to a pool, of a task or of a Runnable or Callable it adapts.
          advice(Advices.PoolSubmit.class, named("poolSubmit").and(takesArguments(2))),
          // Submitted later, by the pool's delay scheduler: bound where it is scheduled.
          advice(
              Advices.RunnableArgument.class,
              schedulesRunnable()),
          advice(
              Advices.CallableArgument.class,
              namedOneOf("schedule", "submitWithTimeout")
                  .and(takesArguments(3).or(takesArguments(4)))
                  .and(takesArgument(0, Callable.class))));
      add(
          jdk,
          "java.util.concurrent.ForkJoinTask",
          advice(Advices.Fork.class, named("fork").and(takesArguments(0))),
          advice(Advices.ForkJoinExec.class, named("doExec").and(takesArguments(0))));
    }
    if (!parsed.skips("timers")) {
      add(
          jdk,
          "java.util.Timer",
          advice(Advices.TimerTaskArgument.class, named("sched").and(takesArguments(3))));
      // The timer's thread runs each task through the agent, which enters its context.
      add(
          jdk,
          "java.util.TimerThread",
          CallRedirect.of(
              named("mainLoop"),
              Opcodes.INVOKEVIRTUAL,
              "java/util/TimerTask",
              "run",
              "runTimerTask"));
    }
    if (!parsed.skips("futures")) {
      add(
          jdk,
          "java.util.concurrent.CompletableFuture",
          advice(Advices.StageFunctionFirst.class, named("completeAsync").and(takesArguments(2))),
          advice(
              Advices.StageFunctionSecond.class,
              namedOneOf(
                      "uniApplyStage",
                      "uniAcceptStage",
                      "uniRunStage",
                      "uniWhenCompleteStage",
                      "uniHandleStage",
                      "uniExceptionallyStage",
                      "uniComposeExceptionallyStage",
                      "uniComposeStage",
                      "asyncSupplyStage",
                      "asyncRunStage")
                  .and(takesArguments(2))),
          advice(
              Advices.StageFunctionThird.class,
              namedOneOf(
                      "biApplyStage",
                      "biAcceptStage",
                      "biRunStage",
                      "orApplyStage",
                      "orAcceptStage",
                      "orRunStage")
                  .and(takesArguments(3))));
    }
    List<AsmVisitorWrapper> threadSubclasses = List.of();
    if (!parsed.skips("threads")) {
      add(
          jdk,
          "java.lang.Thread",
          advice(Advices.ThreadStart.class, named("start").and(takesArguments(0).or(takesArguments(1)))),
          advice(Advices.ThreadRun.class, named("run").and(takesArguments(0))));
      add(
          jdk,
          "java.lang.VirtualThread",
          advice(Advices.ThreadStart.class, named("start").and(takesArguments(1))),
          advice(Advices.ThreadRun.class, named("run").and(takesArguments(Runnable.class))));
      // The threads a pool starts for itself start empty (a ForkJoinPool's and a Timer's are
      // told by their class).
      add(jdk, "java.util.concurrent.ThreadPoolExecutor", advice(Advices.OwnThreads.class, named("addWorker")));
      // The application's subclasses, whose run may not call Thread's. The JDK's own are the
      // threads of its pools and of the JVM, which start empty.
      threadSubclasses = List.of(advice(Advices.ThreadRun.class, named("run").and(takesArguments(0))));
    }
    // Always: a second copy of the core fails loudly instead of running beside the agent's.
    List<AsmVisitorWrapper> secondCopy =
        List.of(advice(Advices.SecondCopy.class, ElementMatchers.isTypeInitializer()));

    ContextTransformer transformer =
        new ContextTransformer(jdk, threadSubclasses, secondCopy, System.err, parsed.log());
    long planned = System.nanoTime();
    instrumentation.addTransformer(transformer, true);
    transformer.retransformLoaded(instrumentation);
    if (parsed.log()) {
      System.err.printf(
          java.util.Locale.ROOT,
          "[contextvars4j-agent] installed in %d ms (%d ms to plan, %d ms to retransform the"
              + " classes loaded before it)%n",
          (System.nanoTime() - start) / 1_000_000,
          (planned - start) / 1_000_000,
          (System.nanoTime() - planned) / 1_000_000);
    }
  }

  private static void add(
      Map<String, List<AsmVisitorWrapper>> plan, String type, AsmVisitorWrapper... steps) {
    plan.merge(
        type.replace('.', '/'),
        List.of(steps),
        (before, more) -> {
          List<AsmVisitorWrapper> all = new ArrayList<>(before);
          all.addAll(more);
          return List.copyOf(all);
        });
  }

  /** {@code schedule}, {@code scheduleAtFixedRate} and {@code scheduleWithFixedDelay} of a Runnable. */
  private static ElementMatcher.Junction<MethodDescription> schedulesRunnable() {
    return namedOneOf("schedule", "scheduleAtFixedRate", "scheduleWithFixedDelay")
        .and(takesArguments(3).or(takesArguments(4)))
        .and(takesArgument(0, Runnable.class));
  }

  private static AsmVisitorWrapper advice(
      Class<?> advice, ElementMatcher<? super MethodDescription> methods) {
    String name = advice.getName();
    // Made when a class it is for is transformed: the advice is then described from its class
    // file, as reflection would load the classes in its signatures, the transformed one among them.
    return new LazyVisitor(
        () ->
            Advice.withCustomMapping()
                // An advice parameter annotated @DeclaredType gets the type the method declares.
                .bind(new DeclaredTypeMapping())
                .to(ADVICE_POOL.describe(name).resolve(), ADVICE_CLASS_FILES)
                .on(methods));
  }

  // The advice's class files are read from the agent jar, which the system class loader (asking
  // the bootstrap one first) sees: the bootstrap loader itself exposes no class files.
  private static final ClassFileLocator ADVICE_CLASS_FILES =
      ClassFileLocator.ForClassLoader.ofSystemLoader();
  private static final TypePool ADVICE_POOL = TypePool.Default.of(ADVICE_CLASS_FILES);

  /** The agent's options. */
  record Options(boolean threadsInherit, Set<String> skip, boolean log) {
    static Options parse(@Nullable String text) {
      boolean inherit = true;
      boolean log = false;
      Set<String> skip = new java.util.HashSet<>();
      if (text != null && !text.isBlank()) {
        for (String option : text.split(",")) {
          String o = option.strip();
          if (o.equals("threads=inherit")) {
            inherit = true;
          } else if (o.equals("threads=empty")) {
            inherit = false;
          } else if (o.equals("log")) {
            log = true;
          } else if (o.startsWith("skip=")
              && Set.of("executors", "futures", "threads", "timers").contains(o.substring(5))) {
            skip.add(o.substring(5));
          } else {
            throw new IllegalArgumentException(
                "contextvars4j-agent: unknown option \""
                    + o
                    + "\"; the options are threads=inherit, threads=empty, skip=executors,"
                    + " skip=futures, skip=threads, skip=timers and log, separated by commas");
          }
        }
      }
      return new Options(inherit, Set.copyOf(skip), log);
    }

    boolean skips(String part) {
      return skip.contains(part);
    }
  }
}
