package org.contextvars4j.agent.internal;

import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TimerTask;
import java.util.WeakHashMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RunnableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.contextvars4j.Context;
import org.contextvars4j.concurrent.ContextExecutors;
import org.contextvars4j.internal.ContextAccess;
import org.jspecify.annotations.Nullable;

/**
 * What the instrumented JDK methods call: the advice is inlined into them and calls these static
 * methods, from the bootstrap class loader, which is why they are public.
 *
 * <p>This class is internal and is hence not for public use. Its APIs are unstable and can change
 * at any time.
 *
 * <p>Thread safety: thread-safe; its state is the threads started but not yet running, and a
 * per-thread count of the pool and timer code that starts threads for itself.
 */
public final class Propagation {
  // Constant for the JIT: every call through it is to the one implementation.
  private static final ContextAccess ACCESS = ContextAccess.get();

  /** What {@link ContextExecutors#capture(Runnable)} returns: a task already carried. */
  private static final Class<?> CARRIED_RUNNABLE = ContextExecutors.capture(() -> {}).getClass();

  /**
   * The core's class whose lambdas are the functions {@code ContextFutures} and the executor
   * wrappers bind: each runs in a context of its own already.
   */
  private static final Class<?> CAPTURED = coreClass("org.contextvars4j.concurrent.Captured");

  /**
   * Threads started and not yet running, with the context each will run in. Weak keys: a thread
   * whose run the agent could not instrument, or that never ran, does not stay reachable from here.
   */
  private static final Map<Thread, Context> STARTING =
      Collections.synchronizedMap(new WeakHashMap<>());

  /** Timer tasks scheduled, with the context each run starts from a copy of. Weak keys, too. */
  private static final Map<TimerTask, Context> TIMER_TASKS =
      Collections.synchronizedMap(new WeakHashMap<>());

  /**
   * Fork-join tasks forked or submitted and not yet run, with the context each will run in: weak
   * keys, in stripes so that the threads of a parallel stream seldom wait for one another.
   */
  @SuppressWarnings("unchecked")
  private static final Map<ForkJoinTask<?>, Context>[] FORKED = new Map[32];

  static {
    for (int i = 0; i < FORKED.length; i++) {
      FORKED[i] = Collections.synchronizedMap(new WeakHashMap<>());
    }
  }

  /**
   * The class of virtual threads, found by name: making one would initialize their scheduler at
   * start-up, in every application, whether it uses virtual threads or not.
   */
  private static final Class<?> VIRTUAL_THREAD = jdkClass("java.lang.VirtualThread");

  /** Above 0 while a {@code ThreadPoolExecutor} is starting a worker on this thread. */
  private static final ThreadLocal<int[]> OWN_THREADS = ThreadLocal.withInitial(() -> new int[1]);

  private static volatile boolean threadsInherit = true;

  private Propagation() {}

  private static Class<?> jdkClass(String name) {
    try {
      return Class.forName(name, false, null);
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("this JDK has no " + name, e);
    }
  }

  private static Class<?> coreClass(String name) {
    try {
      return Class.forName(name, false, Context.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("the agent's core has no " + name, e);
    }
  }

  /**
   * Whether the core bound {@code function} already: a task of its executor wrappers, a function
   * of {@code ContextFutures}, or an action of {@code Context.wrap} (which runs in that context).
   * The agent binds none of them again.
   */
  private static boolean boundByTheCore(Object function) {
    return BOUND_BY_THE_CORE.get(function.getClass());
  }

  /**
   * Whether the core bound what {@code task} runs: {@code task} itself, or the function inside
   * the JDK's adapters that a pool's {@code submit} made of it (a {@code submit} through the
   * core's wrappers hands the pool such an adapter of a bound function).
   */
  private static boolean runsBound(Object task) {
    return boundByTheCore(task) || boundByTheCore(Adapted.function(task));
  }

  /** Per class, once: {@code isHidden} and {@code getNestHost} are not free on every hand-over. */
  private static final ClassValue<Boolean> BOUND_BY_THE_CORE =
      new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
          if (type == CARRIED_RUNNABLE) {
            return true;
          }
          if (!type.isHidden()) {
            return false;
          }
          Class<?> host = type.getNestHost();
          return host == CAPTURED || host == Context.class;
        }
      };

  static void threadsInherit(boolean inherit) {
    threadsInherit = inherit;
  }

  /**
   * {@return {@code task} bound to the current context's mapping, unless it is {@code null} (the
   * JDK then throws as it would) or already bound}
   *
   * @param task the task handed to an executor
   */
  public static @Nullable Runnable runnable(@Nullable Runnable task) {
    if (task == null
        || task instanceof Carried
        // A CompletableFuture's own task: its function is bound already, where it was attached.
        || task instanceof CompletableFuture.AsynchronousCompletionTask
        || runsBound(task)
        // A pool's own long-running task (a channel group's event loop), handed over while it
        // starts its threads: it runs as the pool's threads start, empty. Last: a lookup.
        || OWN_THREADS.get()[0] > 0) {
      return task;
    }
    Object mapping = ACCESS.currentMapping();
    // A Future stays one: a pool's afterExecute(r, t) may ask "r instanceof Future" and get().
    return task instanceof RunnableFuture<?> future
        ? new CarriedFuture<>(mapping, future)
        : new CarriedRunnable(mapping, task);
  }

  /**
   * {@return the task as the caller handed it over, if the agent bound it, else {@code task}}
   *
   * @param task a task from a pool's queue
   */
  public static Runnable unwrap(Runnable task) {
    if (task instanceof CarriedRunnable carried) {
      return carried.task();
    }
    if (task instanceof CarriedFuture<?> carried) {
      return carried.task();
    }
    return task;
  }

  /** The bound form of a new worker's first task, by the worker's thread, until it runs it. */
  private static final Map<Thread, Runnable> FIRST_TASKS =
      Collections.synchronizedMap(new WeakHashMap<>());

  /**
   * The bound form of the task a pool's worker took last, until the worker runs it. A holder set
   * and cleared in place: a {@code ThreadLocal} set and removed per task would allocate its map
   * entry again for every task.
   */
  private static final ThreadLocal<@Nullable Runnable[]> TAKEN =
      ThreadLocal.withInitial(() -> new Runnable[1]);

  /**
   * A {@code ThreadPoolExecutor}'s worker has taken {@code task} from the queue: the worker and
   * the pool's hooks ({@code beforeExecute}, {@code afterExecute}) get the task as it was handed
   * over, and {@link #runTaken} runs it bound.
   *
   * @param task the task taken, or {@code null} when there is none
   * @return the task as it was handed over
   */
  public static @Nullable Runnable taken(@Nullable Runnable task) {
    Runnable[] taken = TAKEN.get();
    if (task instanceof Carried) {
      taken[0] = task;
      return unwrap(task);
    }
    taken[0] = null;
    return task;
  }

  /**
   * What a {@code ThreadPoolExecutor}'s worker calls in place of {@code task.run()}: the run, in
   * the context the task was bound to when it was handed over.
   *
   * @param task the task, as {@link #taken} gave it to the worker
   */
  public static void runTaken(Runnable task) {
    Runnable[] taken = TAKEN.get();
    Runnable bound = taken[0];
    if (bound != null && unwrap(bound) == task) {
      taken[0] = null;
      bound.run();
    } else {
      task.run();
    }
  }

  /**
   * A {@code ThreadPoolExecutor}'s worker begins, on its own thread: its first task, if the
   * agent bound it, is the one it will take first. Once per worker, so the tasks themselves never
   * touch the shared map.
   */
  public static void workerRunning() {
    Runnable first = FIRST_TASKS.remove(Thread.currentThread());
    if (first != null) {
      TAKEN.get()[0] = first;
    }
  }

  /**
   * A {@code ThreadPoolExecutor} made a worker for {@code task}, its first: the worker will run it
   * as the caller handed it over, and {@link #runTaken} bound.
   *
   * @param thread the worker's thread, or {@code null} if the thread factory made none
   * @param task the worker's first task, or {@code null}
   * @return the task as it was handed over
   */
  public static @Nullable Runnable firstTask(@Nullable Thread thread, @Nullable Runnable task) {
    if (thread != null && task instanceof Carried) {
      FIRST_TASKS.put(thread, task);
      return unwrap(task);
    }
    return task;
  }

  /**
   * Replaces, in a list of tasks that {@code shutdownNow()} returns, each task the agent bound by
   * the caller's own.
   *
   * @param tasks the list, modifiable (the JDK's pools return an {@code ArrayList})
   * @return {@code tasks}
   */
  public static List<Runnable> unwrapAll(List<Runnable> tasks) {
    tasks.replaceAll(Propagation::unwrap);
    return tasks;
  }

  /**
   * {@return the bound form of {@code task} in {@code queue}, if the agent bound it when it was
   * handed over, else {@code task}: what {@code remove(task)} must look for}
   *
   * @param queue a pool's queue
   * @param task the task as the caller handed it over
   */
  public static @Nullable Runnable queued(Collection<Runnable> queue, @Nullable Runnable task) {
    if (task != null) {
      for (Runnable queued : queue) {
        if (queued != task && unwrap(queued) == task) {
          return queued;
        }
      }
    }
    return task;
  }

  /**
   * {@return {@code task} bound to the current context's mapping, unless it is {@code null}}
   *
   * @param task the task handed to an executor
   * @param <V> the task's result
   */
  public static <V> @Nullable Callable<V> callable(@Nullable Callable<V> task) {
    return task == null || boundByTheCore(task) ? task : ContextExecutors.capture(task);
  }

  /**
   * {@return the function of a {@code CompletableFuture} stage, bound to the current context's
   * mapping: it runs, wherever and whenever the stage runs, in a new context holding the values
   * of the code that attached the stage}
   *
   * @param function the stage's function; {@code null} is returned as it is
   * @param declared the interface the stage method declares for it: {@link Function}, {@link
   *     Consumer}, {@link BiFunction}, {@link BiConsumer}, {@link Supplier} or {@link Runnable}.
   *     The function is bound as that one, whatever else it implements.
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public static @Nullable Object stageFunction(@Nullable Object function, Class<?> declared) {
    if (function == null || function instanceof Carried || boundByTheCore(function)) {
      return function;
    }
    if (declared == Runnable.class) {
      return runnable((Runnable) function);
    }
    Object mapping = ACCESS.currentMapping();
    if (declared == Function.class) {
      return new CarriedFunction(mapping, (Function) function);
    }
    if (declared == BiFunction.class) {
      return new CarriedBiFunction(mapping, (BiFunction) function);
    }
    if (declared == Consumer.class) {
      return new CarriedConsumer(mapping, (Consumer) function);
    }
    if (declared == BiConsumer.class) {
      return new CarriedBiConsumer(mapping, (BiConsumer) function);
    }
    if (declared == Supplier.class) {
      return new CarriedSupplier(mapping, (Supplier) function);
    }
    return function;
  }

  /**
   * A thread is being started: unless a pool or timer is starting it for itself, or threads are
   * configured to start empty, it will run in a copy of the current context.
   *
   * @param thread the thread being started
   */
  public static void starting(Thread thread) {
    if (threadsInherit
        && OWN_THREADS.get()[0] == 0
        && !(thread instanceof ForkJoinWorkerThread)
        && runSeen(thread.getClass())) {
      STARTING.put(thread, Context.copyCurrent());
    }
  }

  /**
   * The start failed (the thread was already started, or could not be created): it will not run.
   *
   * @param thread the thread
   */
  public static void startFailed(Thread thread) {
    STARTING.remove(thread);
  }

  /**
   * A thread's run begins: enters the context it was started in, if this is the outermost run
   * method of that thread's first run.
   *
   * @param thread the thread whose run method is entered; the current thread for a thread's own
   *     run
   * @return the scope to close when that run method returns, or {@code null}
   */
  public static Context.@Nullable Scope running(Thread thread) {
    if (thread != Thread.currentThread()) {
      // A run() called as a plain method from another thread: not a thread's run.
      return null;
    }
    Context context = STARTING.remove(thread);
    return context == null ? null : context.enter();
  }

  /**
   * The run method that {@link #running} entered a context for has returned or thrown.
   *
   * @param scope what {@link #running} returned
   */
  public static void ran(Context.@Nullable Scope scope) {
    if (scope != null) {
      scope.close();
    }
  }

  /**
   * A {@code TimerTask} is being scheduled: each of its runs will start from a copy of the current
   * context.
   *
   * @param task the task; {@code null} is left to the {@code Timer} to refuse
   */
  public static void scheduling(@Nullable TimerTask task) {
    if (task != null) {
      TIMER_TASKS.put(task, Context.copyCurrent());
    }
  }

  /**
   * What a {@code Timer}'s thread calls in place of {@code task.run()}: the run, in a copy of the
   * context the task was scheduled in.
   *
   * @param task the task to run
   */
  public static void runTimerTask(TimerTask task) {
    Context scheduledIn = TIMER_TASKS.get(task);
    if (scheduledIn == null) {
      task.run();
    } else {
      scheduledIn.copy().run(task);
    }
  }

  /**
   * A fork-join task is forked, or submitted to a pool: it will run in a copy of the current
   * context, on whichever thread runs it.
   *
   * @param task the task; {@code null} is left to the pool to refuse
   */
  public static void forking(@Nullable ForkJoinTask<?> task) {
    // A CompletableFuture's own task: its function is bound already, where it was attached.
    if (task != null
        && !(task instanceof CompletableFuture.AsynchronousCompletionTask)
        && !runsBound(task)) {
      stripe(task).put(task, Context.copyCurrent());
    }
  }

  /**
   * A fork-join task begins to run: enters the context it was forked or submitted in, if it was.
   *
   * @param task the task
   * @return the scope to close when it has run, or {@code null} (a task invoked where it is, on
   *     the invoking thread, runs in that thread's context)
   */
  public static Context.@Nullable Scope executing(ForkJoinTask<?> task) {
    Context forkedIn = stripe(task).remove(task);
    return forkedIn == null ? null : forkedIn.enter();
  }

  private static Map<ForkJoinTask<?>, Context> stripe(ForkJoinTask<?> task) {
    return FORKED[System.identityHashCode(task) & (FORKED.length - 1)];
  }

  /**
   * Whether the agent sees the run of a thread of this class begin: {@code Thread}'s own, a
   * virtual thread's, the application's subclasses'. The JDK's own subclasses (the threads of its
   * pools, timers, cleaners and schedulers, which start empty) are left alone: their run methods
   * are not instrumented, and a registration would never be consumed.
   */
  private static boolean runSeen(Class<?> type) {
    return type == Thread.class || type == VIRTUAL_THREAD || type.getClassLoader() != null;
  }

  /** A pool begins starting a worker for itself on this thread: it starts empty. */
  public static void ownThreadsBegin() {
    OWN_THREADS.get()[0]++;
  }

  /** The pool is done starting a worker. */
  public static void ownThreadsEnd() {
    OWN_THREADS.get()[0]--;
  }

  /** Marks the functions this class made, so that none is bound twice. */
  interface Carried {}

  /** A task the agent bound, as a pool's queue holds it. */
  private record CarriedRunnable(Object mapping, Runnable task) implements Runnable, Carried {
    @Override
    public void run() {
      ACCESS.runInNew(mapping, task);
    }

    @Override
    public String toString() {
      return task.toString();
    }
  }

  /** A future task the agent bound: still the same future to whoever asks it. */
  private record CarriedFuture<V>(Object mapping, RunnableFuture<V> task)
      implements RunnableFuture<V>, Carried {
    @Override
    public void run() {
      ACCESS.runInNew(mapping, task);
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      return task.cancel(mayInterruptIfRunning);
    }

    @Override
    public boolean isCancelled() {
      return task.isCancelled();
    }

    @Override
    public boolean isDone() {
      return task.isDone();
    }

    @Override
    public V get() throws InterruptedException, ExecutionException {
      return task.get();
    }

    @Override
    public V get(long timeout, TimeUnit unit)
        throws InterruptedException, ExecutionException, TimeoutException {
      return task.get(timeout, unit);
    }

    @Override
    public V resultNow() {
      return task.resultNow();
    }

    @Override
    public Throwable exceptionNow() {
      return task.exceptionNow();
    }

    @Override
    public State state() {
      return task.state();
    }

    @Override
    public String toString() {
      return task.toString();
    }
  }

  private record CarriedFunction<T, R>(Object mapping, Function<T, R> function)
      implements Function<T, R>, Carried {
    @Override
    public R apply(T t) {
      return ACCESS.callInNew(mapping, () -> function.apply(t));
    }
  }

  private record CarriedBiFunction<T, U, R>(Object mapping, BiFunction<T, U, R> function)
      implements BiFunction<T, U, R>, Carried {
    @Override
    public R apply(T t, U u) {
      return ACCESS.callInNew(mapping, () -> function.apply(t, u));
    }
  }

  private record CarriedConsumer<T>(Object mapping, Consumer<T> consumer)
      implements Consumer<T>, Carried {
    @Override
    public void accept(T t) {
      ACCESS.runInNew(mapping, () -> consumer.accept(t));
    }
  }

  private record CarriedBiConsumer<T, U>(Object mapping, BiConsumer<T, U> consumer)
      implements BiConsumer<T, U>, Carried {
    @Override
    public void accept(T t, U u) {
      ACCESS.runInNew(mapping, () -> consumer.accept(t, u));
    }
  }

  private record CarriedSupplier<T>(Object mapping, Supplier<T> supplier)
      implements Supplier<T>, Carried {
    @Override
    public T get() {
      return ACCESS.callInNew(mapping, supplier::get);
    }
  }
}
