package org.contextvars4j.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.contextvars4j.agent.Support.NAME;
import static org.contextvars4j.agent.Support.inNewContext;
import static org.contextvars4j.agent.Support.joinBounded;

import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicReference;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.contextvars4j.Token;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * Runs first: the JVM runs under the agent, and the core exists once, in the bootstrap class
 * loader, where the JDK classes the agent instruments find it; the application's loaders, asking
 * their parent first, get that same copy (not the one on the test class path).
 */
@Order(1)
final class AgentActiveIT {

  @Test
  void jvmWasStartedWithTheAgentJar() {
    assertThat(ManagementFactory.getRuntimeMXBean().getInputArguments())
        .as("the JVM's arguments")
        .anySatisfy(
            argument ->
                assertThat(argument).startsWith("-javaagent:").contains("contextvars4j-agent"));
  }

  @Test
  void theCoreIsLoadedOnce_fromTheBootstrapLoader() throws Exception {
    assertThat(Context.class.getClassLoader()).as("Context's loader").isNull();
    assertThat(ContextVar.class.getClassLoader()).as("ContextVar's loader").isNull();
    assertThat(Token.class.getClassLoader()).as("Token's loader").isNull();
    ClassLoader app = AgentActiveIT.class.getClassLoader();
    assertThat(app).as("the tests themselves are application classes").isNotNull();
    assertThat(Class.forName("org.contextvars4j.Context", false, app))
        .as("the application's loader resolves the core to the bootstrap copy")
        .isSameAs(Context.class);
    assertThat(Class.forName("org.contextvars4j.agent.internal.Propagation", false, null))
        .as("the agent's runtime part is in the bootstrap loader too")
        .isNotNull();
    assertThat(Class.forName("org.contextvars4j.agent.internal.Propagation", false, app))
        .isSameAs(Class.forName("org.contextvars4j.agent.internal.Propagation", false, null));
  }

  @Test
  void theAgentIsActive_aPlainThreadSeesItsStartersValue() throws Exception {
    inNewContext(
        () -> {
          NAME.set("starter's");
          AtomicReference<String> seen = new AtomicReference<>();
          Thread thread = new Thread(() -> seen.set(Support.name()));
          thread.start();
          joinBounded(thread);

          assertThat(seen.get())
              .as("without the agent a new thread starts empty and sees <unbound>")
              .isEqualTo("starter's");
        });
  }
}
