package org.contextvars4j;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Checks after every test that the test thread is back in the context it started in, and that the
 * test left no value in that (base) context: a test that leaks a set fails here, not in the next
 * test. Use with {@code @ExtendWith(RestoresContext.class)}.
 */
final class RestoresContext implements BeforeEachCallback, AfterEachCallback {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(RestoresContext.class);

  @Override
  public void beforeEach(ExtensionContext extension) {
    // In a holder: the thread's base frame has no Context object (null).
    extension.getStore(NAMESPACE).put("before", new Context[] {ThreadState.current().context});
  }

  @Override
  public void afterEach(ExtensionContext extension) {
    Context before = extension.getStore(NAMESPACE).get("before", Context[].class)[0];
    assertThat(ThreadState.current().context)
        .as("the test thread is back in the context it started in")
        .isSameAs(before);
    assertThat(Context.copyCurrent().size())
        .as("the test left no value in the test thread's base context")
        .isZero();
  }
}
