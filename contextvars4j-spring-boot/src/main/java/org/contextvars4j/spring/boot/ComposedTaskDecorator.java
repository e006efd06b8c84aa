package org.contextvars4j.spring.boot;

import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.core.task.TaskDecorator;

/**
 * For Spring Boot 3.5, which gives its executors a {@link TaskDecorator} bean only when it is the
 * unique one (or the primary one): this one is primary, and applies the application's other
 * decorators, in their order, inside {@link ContextTaskDecorator}, as Spring Boot 4 does itself.
 *
 * <p>The context's copy is the outermost layer, so that what another decorator's wrapper sets when
 * the task runs (a copied MDC, a security context) is set in the task's copy and goes with it.
 */
final class ComposedTaskDecorator implements TaskDecorator {
  private final ContextTaskDecorator context = new ContextTaskDecorator();
  private final ObjectProvider<TaskDecorator> decorators;
  // Looked up at the first task, not at construction: the others may not exist yet then.
  private volatile @Nullable List<TaskDecorator> others;

  ComposedTaskDecorator(ObjectProvider<TaskDecorator> decorators) {
    this.decorators = decorators;
  }

  @Override
  public Runnable decorate(Runnable runnable) {
    Runnable decorated = runnable;
    for (TaskDecorator other : others()) {
      decorated = other.decorate(decorated);
    }
    return context.decorate(decorated);
  }

  private List<TaskDecorator> others() {
    List<TaskDecorator> found = others;
    if (found == null) {
      // A race repeats the same look-up: harmless.
      found = decorators.orderedStream().filter(d -> d != this && !(d instanceof ContextTaskDecorator)).toList();
      others = found;
    }
    return found;
  }

  @Override
  public String toString() {
    return "ComposedTaskDecorator" + others();
  }
}
