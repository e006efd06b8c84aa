package org.contextvars4j.examples;

import java.util.UUID;
import org.contextvars4j.ContextVar;

/**
 * What a piece of work (a task, a stage, a periodic run, a thread's body) saw of {@code ctx} when
 * it started, and the value it then set, as request handlers do, without ever resetting it.
 *
 * <p>The work records; the code that waits for it prints ({@link #show}), so that the output comes
 * out in the same order on every run, also when pieces of work run at the same time. The value to
 * set is chosen by the caller beforehand: the work never touches the demo's uuid source, which is
 * not thread-safe.
 *
 * @param saw what the work saw before its set
 * @param set the value it set
 */
record Work(Seen saw, UUID set) {

  /**
   * Records what the calling thread sees of {@code ctx}, then sets {@code value} in the current
   * context: whichever context the work runs in, which is the question every scenario asks.
   *
   * @param ctx the variable
   * @param value the value to set
   * @return what was seen and set
   */
  static Work run(ContextVar<UUID> ctx, UUID value) {
    Seen saw = Seen.now(ctx, null);
    ctx.set(value);
    return new Work(saw, value);
  }

  /**
   * Prints what the work saw and set, e.g. {@code run 1 sees ...} and {@code run 1 sets ...}.
   *
   * @param demo the printer
   * @param who the work's name
   */
  void show(Demo demo, String who) {
    demo.show(who + " sees", saw);
    demo.show(who + " sets", set);
  }
}
