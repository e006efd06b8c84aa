package org.contextvars4j.spring.boot;

import java.util.function.Supplier;
import org.contextvars4j.Context;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;

/**
 * A {@link Mono} that, at each subscription, makes its source and subscribes to it in a new, empty
 * context, then leaves that context: what the source does synchronously while it is subscribed
 * runs there, and nothing of it stays on the subscribing thread.
 */
final class FreshContextMono<T> extends Mono<T> {
  private final Supplier<Mono<T>> source;

  private FreshContextMono(Supplier<Mono<T>> source) {
    this.source = source;
  }

  /** {@return a mono that makes and subscribes to {@code source} in a fresh context} */
  static <T> Mono<T> of(Supplier<Mono<T>> source) {
    // Through Reactor's assembly hooks, as every operator is.
    return onAssembly(new FreshContextMono<T>(source));
  }

  @Override
  public void subscribe(CoreSubscriber<? super T> actual) {
    try (Context.Scope ignored = new Context().enter()) {
      Mono<T> mono;
      try {
        mono = source.get();
      } catch (Throwable e) {
        // A chain that throws instead of returning an error: the subscriber gets the error.
        Operators.error(actual, Operators.onOperatorError(e, actual.currentContext()));
        return;
      }
      mono.subscribe(actual);
    }
  }
}
