package org.contextvars4j.slf4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.contextvars4j.concurrent.ContextThreads;
import org.junit.Test;
import org.slf4j.helpers.MDCAdapterTestBase;
import org.slf4j.spi.MDCAdapter;

/**
 * SLF4J's own {@link MDCAdapterTestBase}, run against {@link ContextMDCAdapter}.
 *
 * <p>Two of its cases expect a plain {@code new Thread(...)} to inherit its parent's MDC, which is
 * {@code BasicMDCAdapter}'s choice. contextvars4j keeps PEP 567 instead: a new thread starts in an
 * empty context, so with an empty MDC, and gets its starter's MDC when started through {@link
 * ContextThreads}. Those two cases are overridden: each checks that a plain thread starts empty,
 * and then runs SLF4J's original assertions on a thread started through {@code ContextThreads}.
 */
public class ContextMDCAdapterSuiteTest extends MDCAdapterTestBase {

  @Override
  protected MDCAdapter instantiateMDC() {
    return new ContextMDCAdapter();
  }

  @Test
  @Override
  public void testMDCInheritsValuesFromParentThread() throws Exception {
    mdc.put("parentKey", "parentValue");
    runOnPlainThread(() -> assertNull(mdc.get("parentKey")));
    runOnContextThread(
        () -> {
          mdc.put("childKey", "childValue");
          assertEquals("parentValue", mdc.get("parentKey"));
        });
    assertNull(mdc.get("childKey"));
  }

  @Test
  @Override
  public void testMDCChildThreadCanOverwriteParentThread() throws Exception {
    mdc.put("sharedKey", "parentValue");
    runOnPlainThread(() -> assertNull(mdc.get("sharedKey")));
    runOnContextThread(
        () -> {
          assertEquals("parentValue", mdc.get("sharedKey"));
          mdc.put("sharedKey", "childValue");
          assertEquals("childValue", mdc.get("sharedKey"));
        });
    assertEquals("parentValue", mdc.get("sharedKey"));
  }

  private static void runOnPlainThread(Runnable body) throws Exception {
    CompletableFuture<Void> done = new CompletableFuture<>();
    Thread thread = new Thread(() -> complete(done, body));
    thread.start();
    done.get(10, TimeUnit.SECONDS);
  }

  private static void runOnContextThread(Runnable body) throws Exception {
    CompletableFuture<Void> done = new CompletableFuture<>();
    ContextThreads.start(Thread.ofPlatform(), () -> complete(done, body));
    done.get(10, TimeUnit.SECONDS);
  }

  private static void complete(CompletableFuture<Void> done, Runnable body) {
    try {
      body.run();
      done.complete(null);
    } catch (Throwable failure) {
      done.completeExceptionally(failure);
    }
  }
}
