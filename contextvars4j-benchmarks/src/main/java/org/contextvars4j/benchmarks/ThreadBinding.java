package org.contextvars4j.benchmarks;

import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The variable of a {@link SharedSystem} bound on one benchmark thread, in that thread's own
 * context: JMH runs the setup and the teardown of a thread-scoped state on the thread that uses
 * it.
 */
@State(Scope.Thread)
public class ThreadBinding {

  ContextSystem system;

  @Setup
  public void bind(SharedSystem shared) {
    system = shared.shared;
    system.bind(1);
    Checks.requireBound(system, false);
    Checks.tenure();
  }

  @TearDown
  public void unbind() {
    system.unbind();
  }
}
