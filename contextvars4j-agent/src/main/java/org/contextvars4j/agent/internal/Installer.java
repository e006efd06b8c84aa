package org.contextvars4j.agent.internal;

import static net.bytebuddy.matcher.ElementMatchers.isDeclaredBy;
import static net.bytebuddy.matcher.ElementMatchers.isInterface;
import static net.bytebuddy.matcher.ElementMatchers.isSubTypeOf;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.namedOneOf;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import java.io.PrintStream;
import java.lang.instrument.Instrumentation;
import java.util.Map;
import java.util.Set;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.MemberSubstitution;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.dynamic.Nexus;
import net.bytebuddy.dynamic.scaffold.MethodGraph;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.matcher.ElementMatchers;
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
 *   <li>{@code log}: print each class instrumented to standard error.
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
    Options parsed = Options.parse(options);
    // Byte Buddy's Nexus serves initialization strategies this agent does not use; left on, it
    // would inject a class into the system class loader through sun.misc.Unsafe, which JDK 24+
    // warns about. (The property's name is relocated with Byte Buddy: it is this agent's only.)
    System.setProperty(Nexus.PROPERTY, "true");
    Propagation.threadsInherit(parsed.threadsInherit());
    // The JDK's classes call the agent's, which are in the bootstrap loader's unnamed module.
    instrumentation.redefineModule(
        Object.class.getModule(),
        Set.of(Installer.class.getModule()),
        Map.of(),
        Map.of(),
        Set.of(),
        Map.of());

    AgentBuilder agent =
        // Only the declared methods are looked at: advice needs no view of the class's hierarchy,
        // which another agent may have extended with types that no class file describes.
        new AgentBuilder.Default(
                new ByteBuddy().with(MethodGraph.Compiler.ForDeclaredMethods.INSTANCE))
            .disableClassFormatChanges()
            .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
            // One class per retransformation: one that the JVM refuses leaves the others done.
            .with(AgentBuilder.RedefinitionStrategy.BatchAllocator.ForFixedSize.ofSize(1))
            .with(
                parsed.log()
                    ? AgentBuilder.RedefinitionStrategy.Listener.StreamWriting.toSystemError()
                    : AgentBuilder.RedefinitionStrategy.Listener.NoOp.INSTANCE)
            .with(AgentBuilder.InitializationStrategy.NoOp.INSTANCE)
            // Advice only: the class is decorated, not redefined, so nothing of its hierarchy
            // needs to be resolved.
            .with(AgentBuilder.TypeStrategy.Default.DECORATE)
            // Classes are described from their class files, never by reflection on a loaded
            // class: reflection would load the classes in its signatures (ForkJoinTask's name
            // ForkJoinPool) while the agent is transforming, when they cannot be transformed.
            .with(AgentBuilder.DescriptionStrategy.Default.POOL_ONLY)
            .with(new Report(System.err, parsed.log()))
            .ignore(
                nameStartsWith("org.contextvars4j.agent.internal.")
                    .or(nameStartsWith("org.contextvars4j.agent.shaded."))
                    .or(named("org.contextvars4j.agent.ContextAgent"))
                    .or(nameStartsWith("net.bytebuddy."))
                    .or(nameStartsWith("jdk.internal.reflect."))
                    .or(nameStartsWith("sun.reflect.")));

    if (!parsed.skips("executors")) {
      agent =
          agent
              .type(named("java.util.concurrent.ThreadPoolExecutor"))
              .transform(
                  advice(
                      Advices.RunnableArgument.class,
                      named("execute").and(takesArguments(Runnable.class))))
              .transform(
                  advice(Advices.ShutdownNow.class, named("shutdownNow").and(takesArguments(0))))
              // The worker and the hooks see the caller's own task; it runs bound.
              .transform(advice(Advices.TakenTask.class, named("getTask").and(takesArguments(0))))
              .transform(advice(Advices.WorkerRunning.class, named("runWorker")))
              .transform(
                  (builder, type, loader, module, domain) ->
                      builder.visit(
                          MemberSubstitution.relaxed()
                              .method(named("run").and(isDeclaredBy(Runnable.class)))
                              .replaceWith(RUN_TAKEN)
                              .on(named("runWorker"))))
              .transform(
                  advice(Advices.Remove.class, named("remove").and(takesArguments(Runnable.class))))
              .type(named("java.util.concurrent.ThreadPoolExecutor$Worker"))
              .transform(
                  advice(
                      Advices.WorkerFirstTask.class,
                      // Its one constructor: (the pool, the first task).
                      ElementMatchers.isConstructor()))
              // A channel group's event loop, handed to its pool as the group starts: it is the
              // group's own, and starts empty like the pool's threads.
              .type(named("sun.nio.ch.AsynchronousChannelGroupImpl"))
              .transform(
                  advice(
                      Advices.OwnThreads.class,
                      named("startThreads").and(takesArguments(Runnable.class))))
              // A thread per task: the task is bound, whether threads inherit or not.
              .type(named("java.util.concurrent.ThreadPerTaskExecutor"))
              .transform(
                  advice(
                      Advices.TaskArgument.class,
                      namedOneOf("execute", "submit").and(takesArguments(1).or(takesArguments(2)))))
              // Handed to the pool later, by the delayer's thread: bound where it is scheduled.
              .type(named("java.util.concurrent.CompletableFuture$DelayedExecutor"))
              .transform(
                  advice(
                      Advices.RunnableArgument.class,
                      named("execute").and(takesArguments(Runnable.class))))
              .type(named("java.util.concurrent.ScheduledThreadPoolExecutor"))
              .transform(
                  advice(
                      Advices.TaskArgument.class,
                      namedOneOf("schedule", "scheduleAtFixedRate", "scheduleWithFixedDelay")
                          .and(takesArguments(3).or(takesArguments(4)))))
              // Every submission to a pool, of a task or of a Runnable or Callable it adapts.
              .type(named("java.util.concurrent.ForkJoinPool"))
              .transform(
                  advice(Advices.PoolSubmit.class, named("poolSubmit").and(takesArguments(2))))
              // Submitted later, by the pool's delay scheduler: bound where it is scheduled.
              .transform(
                  advice(
                      Advices.TaskArgument.class,
                      namedOneOf(
                              "schedule",
                              "scheduleAtFixedRate",
                              "scheduleWithFixedDelay",
                              "submitWithTimeout")
                          .and(takesArguments(3).or(takesArguments(4)))))
              .type(named("java.util.concurrent.ForkJoinTask"))
              .transform(advice(Advices.Fork.class, named("fork").and(takesArguments(0))))
              .transform(advice(Advices.ForkJoinExec.class, named("doExec").and(takesArguments(0))));
    }
    if (!parsed.skips("timers")) {
      agent =
          agent
              .type(named("java.util.Timer"))
              .transform(
                  advice(
                      Advices.TimerTaskArgument.class, named("sched").and(takesArguments(3))))
              // The timer's thread runs each task through the agent, which enters its context.
              .type(named("java.util.TimerThread"))
              .transform(
                  (builder, type, loader, module, domain) ->
                      builder.visit(
                          MemberSubstitution.relaxed()
                              .method(
                                  named("run").and(isDeclaredBy(named("java.util.TimerTask"))))
                              .replaceWith(RUN_TIMER_TASK)
                              .on(named("mainLoop"))));
    }
    if (!parsed.skips("futures")) {
      agent =
          agent
              .type(named("java.util.concurrent.CompletableFuture"))
              .transform(
                  advice(
                      Advices.StageFunctionFirst.class,
                      named("completeAsync").and(takesArguments(2))))
              .transform(
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
                          .and(takesArguments(2))))
              .transform(
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
    if (!parsed.skips("threads")) {
      agent =
          agent
              .type(named("java.lang.Thread"))
              .transform(
                  advice(
                      Advices.ThreadStart.class,
                      named("start").and(takesArguments(0).or(takesArguments(1)))))
              .transform(advice(Advices.ThreadRun.class, named("run").and(takesArguments(0))))
              .type(named("java.lang.VirtualThread"))
              .transform(advice(Advices.ThreadStart.class, named("start").and(takesArguments(1))))
              .transform(
                  advice(
                      Advices.ThreadRun.class,
                      named("run").and(takesArguments(Runnable.class))))
              // The application's subclasses, whose run may not call Thread's. The JDK's own are
              // the threads of its pools and of the JVM, which start empty.
              .type(
                  isSubTypeOf(Thread.class).and(not(isInterface())),
                  not(ElementMatchers.isBootstrapClassLoader()))
              .transform(advice(Advices.ThreadRun.class, named("run").and(takesArguments(0))))
              // The threads a pool starts for itself start empty (a ForkJoinPool's and a
              // Timer's are told by their class).
              .type(named("java.util.concurrent.ThreadPoolExecutor"))
              .transform(advice(Advices.OwnThreads.class, named("addWorker")));
    }
    // Always: a second copy of the core fails loudly instead of running beside the agent's.
    agent =
        agent
            .type(named("org.contextvars4j.Context"), not(ElementMatchers.isBootstrapClassLoader()))
            .transform(advice(Advices.SecondCopy.class, ElementMatchers.isTypeInitializer()));
    agent.installOn(instrumentation);
  }

  private static AgentBuilder.Transformer advice(
      Class<?> advice, ElementMatcher<? super MethodDescription> methods) {
    // The advice's class file is read from the agent jar, which the system class loader (asking
    // the bootstrap one first) sees: the bootstrap loader itself exposes no class files.
    Advice visitor = Advice.to(advice, ClassFileLocator.ForClassLoader.ofSystemLoader());
    return (builder, type, loader, module, domain) -> builder.visit(visitor.on(methods));
  }

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

  private static final java.lang.reflect.Method RUN_TIMER_TASK;
  private static final java.lang.reflect.Method RUN_TAKEN;

  static {
    try {
      RUN_TIMER_TASK = Propagation.class.getMethod("runTimerTask", java.util.TimerTask.class);
      RUN_TAKEN = Propagation.class.getMethod("runTaken", Runnable.class);
    } catch (NoSuchMethodException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** The JDK's classes that the agent instruments by name. */
  private static final Set<String> TARGETS =
      Set.of(
          "java.lang.Thread",
          "java.lang.VirtualThread",
          "java.util.Timer",
          "java.util.TimerThread",
          "sun.nio.ch.AsynchronousChannelGroupImpl",
          "java.util.concurrent.CompletableFuture",
          "java.util.concurrent.CompletableFuture$DelayedExecutor",
          "java.util.concurrent.ThreadPerTaskExecutor",
          "java.util.concurrent.ForkJoinPool",
          "java.util.concurrent.ForkJoinTask",
          "java.util.concurrent.ScheduledThreadPoolExecutor",
          "java.util.concurrent.ThreadPoolExecutor",
          "java.util.concurrent.ThreadPoolExecutor$Worker");

  /** Reports failures once each, and with {@code log} every class instrumented. */
  private static final class Report extends AgentBuilder.Listener.Adapter {
    private final PrintStream out;
    private final boolean log;

    Report(PrintStream out, boolean log) {
      this.out = out;
      this.log = log;
    }

    @Override
    public void onTransformation(
        net.bytebuddy.description.type.TypeDescription type,
        @Nullable ClassLoader loader,
        net.bytebuddy.utility.@Nullable JavaModule module,
        boolean loaded,
        net.bytebuddy.dynamic.DynamicType dynamicType) {
      if (log) {
        out.println("[contextvars4j-agent] instrumented " + type.getName());
      }
    }

    @Override
    public void onError(
        String typeName,
        @Nullable ClassLoader loader,
        net.bytebuddy.utility.@Nullable JavaModule module,
        boolean loaded,
        Throwable error) {
      // A class that could not even be described (another agent's, made at run time) is not one
      // this agent was after, unless it is one of the JDK's it names.
      if (!log && !TARGETS.contains(typeName)) {
        return;
      }
      out.println(
          "[contextvars4j-agent] could not instrument "
              + typeName
              + ", which is left as it is: "
              + error);
      if (log) {
        error.printStackTrace(out);
      }
    }
  }
}
