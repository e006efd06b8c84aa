package org.contextvars4j.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.AsynchronousChannelGroup;
import java.nio.channels.AsynchronousServerSocketChannel;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.CompletionHandler;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.junit.jupiter.api.Test;

/**
 * An NIO.2 channel group on a fixed pool runs its event loop as a task of that pool, handed over
 * while the group starts: that task is the group's own, so it starts empty, like the pool's
 * threads, and the group's creator's values neither reach its completion handlers nor stay
 * reachable for the group's life.
 */
class ChannelGroupIT {
  private static final ContextVar<String> NAME = ContextVar.named("name", "-");

  @Test
  void aFixedPoolGroupsHandlersDoNotSeeTheGroupCreatorsValues() throws Exception {
    AsynchronousChannelGroup group =
        new Context()
            .call(
                () -> {
                  NAME.set("group creator");
                  return AsynchronousChannelGroup.withFixedThreadPool(1, Executors.defaultThreadFactory());
                });
    try (AsynchronousServerSocketChannel server =
        AsynchronousServerSocketChannel.open(group)
            .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      CompletableFuture<String> seenByHandler = new CompletableFuture<>();
      server.accept(
          null,
          new CompletionHandler<AsynchronousSocketChannel, Void>() {
            @Override
            public void completed(AsynchronousSocketChannel channel, Void attachment) {
              seenByHandler.complete(NAME.get());
              try {
                channel.close();
              } catch (java.io.IOException e) {
                seenByHandler.completeExceptionally(e);
              }
            }

            @Override
            public void failed(Throwable e, Void attachment) {
              seenByHandler.completeExceptionally(e);
            }
          });
      try (AsynchronousSocketChannel client = AsynchronousSocketChannel.open()) {
        client.connect(server.getLocalAddress()).get(30, TimeUnit.SECONDS);
        assertThat(seenByHandler.get(30, TimeUnit.SECONDS)).isEqualTo("-");
      }
    } finally {
      group.shutdownNow();
      assertThat(group.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    }
  }
}
