package org.contextvars4j.examples;

import java.util.UUID;

/**
 * What the post's {@code nested_async()} observed: the value it printed on entry, the new value it
 * set and printed, and the thread it ran on.
 *
 * @param saw the value it printed before its set
 * @param set the new value it set
 * @param thread the name of the thread it ran on
 */
record Nested(UUID saw, UUID set, String thread) {

  /**
   * The body of the post's {@code nested_async()}: prints {@code ctx}, sets a new uuid, prints
   * that. It sets into whatever context is current where it runs, which is the whole question of
   * scenarios 4 and 5.
   *
   * @param demo the variable, the uuid source and the printer
   * @return what it observed
   */
  static Nested run(Demo demo) {
    String thread = Demo.threadName();
    UUID saw = demo.ctx.get();
    demo.show("nested prints", saw, "on " + thread);
    demo.ctx.set(demo.newUuid());
    UUID set = demo.ctx.get();
    demo.show("nested sets a new uuid, prints", set);
    return new Nested(saw, set, thread);
  }
}
