package org.contextvars4j.testapp;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * An application's own subclasses of {@link Thread}, for the agent's tests. They live outside the
 * package {@code org.contextvars4j.agent}, whose classes the agent leaves uninstrumented (the
 * tests' own package is one of them), so that the agent treats them as it treats any
 * application's classes.
 */
public final class UserThreads {
  private UserThreads() {}

  /** A thread whose run() does its own work first, then the Runnable's through super.run(). */
  public static final class CallsSuperRun extends Thread {
    private final Supplier<String> probe;
    private final Runnable beforeSuper;

    /** What this class's own run() saw, before it called super.run(). */
    public final List<String> seenByOwnRun = new CopyOnWriteArrayList<>();

    /**
     * @param task the Runnable that Thread.run() runs
     * @param probe what the own run() records, first
     * @param beforeSuper what the own run() does after recording, before super.run()
     */
    public CallsSuperRun(Runnable task, Supplier<String> probe, Runnable beforeSuper) {
      super(task);
      this.probe = probe;
      this.beforeSuper = beforeSuper;
      setDaemon(true);
    }

    @Override
    public void run() {
      seenByOwnRun.add(probe.get());
      beforeSuper.run();
      super.run();
    }
  }

  /** A thread whose run() replaces Thread's: it never calls super.run(). */
  public static final class OwnRun extends Thread {
    private final Runnable body;

    public OwnRun(Runnable body) {
      this.body = body;
      setDaemon(true);
    }

    @Override
    public void run() {
      body.run();
    }
  }

  /** A thread class that only configures itself: Thread's own run() runs the Runnable. */
  public static final class NoRunOverride extends Thread {
    public NoRunOverride(Runnable task) {
      super(task, "no-run-override");
      setDaemon(true);
    }
  }
}
