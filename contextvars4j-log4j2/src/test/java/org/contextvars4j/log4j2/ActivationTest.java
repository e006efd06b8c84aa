package org.contextvars4j.log4j2;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Properties;
import java.util.ServiceLoader;
import org.apache.logging.log4j.ThreadContext;
import org.apache.logging.log4j.core.impl.ContextDataInjectorFactory;
import org.apache.logging.log4j.core.impl.Log4jProvider;
import org.apache.logging.log4j.core.impl.ThreadContextDataInjector;
import org.apache.logging.log4j.spi.DefaultThreadContextMap;
import org.apache.logging.log4j.util.PropertiesUtil;
import org.apache.logging.log4j.util.PropertySource;
import org.contextvars4j.Context;
import org.contextvars4j.log4j2.internal.ThreadContextMapPropertySource;
import org.junit.jupiter.api.Test;

/**
 * The dependency alone makes the map Log4j's: nothing in this test run configures it (the
 * surefire configuration sets no {@code log4j2.threadContextMap}), yet log4j-core's provider, the
 * {@link ThreadContext} facade and the context data injector all use it; and every other property
 * source overrides the default.
 */
final class ActivationTest {

  private static final String PROPERTY = "log4j2.threadContextMap";

  @Test
  void nothingConfigured_threadContextUsesContextThreadContextMap() {
    assertThat(System.getProperty(PROPERTY)).as("precondition: nothing configured").isNull();

    assertThat(ThreadContext.getThreadContextMap()).isInstanceOf(ContextThreadContextMap.class);
  }

  @Test
  void threadContextFacade_storesInTheContext() {
    new Context()
        .run(
            () -> {
              ThreadContext.put("k", "v");
              assertThat(ThreadContext.getThreadContextMap().getReadOnlyContextData().<String>getValue("k"))
                  .isEqualTo("v");
              assertThat(Context.copyCurrent().call(() -> ThreadContext.get("k"))).isEqualTo("v");
            });

    assertThat(ThreadContext.containsKey("k")).as("the put stayed in the context it ran in").isFalse();
  }

  @Test
  void log4jCore_takesTheMapWithoutCopying() {
    assertThat(ContextDataInjectorFactory.createInjector())
        .as("CopyOnWrite: the event takes the frozen map itself")
        .isInstanceOf(ThreadContextDataInjector.ForCopyOnWriteThreadContextMap.class);
  }

  @Test
  void propertySource_isFoundByServiceLoader_andSuppliesTheClassName() {
    assertThat(ServiceLoader.load(PropertySource.class).stream().map(ServiceLoader.Provider::type))
        .contains(ThreadContextMapPropertySource.class);
    assertThat(PropertiesUtil.getProperties().getStringProperty(PROPERTY))
        .isEqualTo(ContextThreadContextMap.class.getName());
    assertThat(PropertiesUtil.getProperties().getStringProperty("log4j2.ThreadContextMap"))
        .as("another spelling of the same tokens")
        .isEqualTo(ContextThreadContextMap.class.getName());
    assertThat(PropertiesUtil.getProperties().getStringProperty("log4j2.threadContextMapX"))
        .as("no other property")
        .isNull();
  }

  @Test
  void propertySource_hasTheLowestPrecedence() {
    PropertySource ours = new ThreadContextMapPropertySource();
    for (PropertySource log4js : ServiceLoader.load(PropertySource.class)) {
      if (!(log4js instanceof ThreadContextMapPropertySource)) {
        assertThat(new PropertySource.Comparator().compare(log4js, ours))
            .as("%s is searched before ours", log4js)
            .isNegative();
      }
    }
  }

  @Test
  void aPropertyFile_overridesTheDefault() {
    Properties file = new Properties();
    file.setProperty(PROPERTY, "GarbageFree");

    assertThat(new PropertiesUtil(file).getStringProperty(PROPERTY)).isEqualTo("GarbageFree");
  }

  @Test
  void aSystemProperty_overridesTheDefault_andNamingOurClassWorksToo() {
    try {
      System.setProperty(PROPERTY, "WebApp");
      assertThat(new Log4jProvider().getThreadContextMapInstance())
          .as("-Dlog4j2.threadContextMap=WebApp brings Log4j's own map back")
          .isInstanceOf(DefaultThreadContextMap.class);

      System.setProperty(PROPERTY, ContextThreadContextMap.class.getName());
      assertThat(new Log4jProvider().getThreadContextMapInstance())
          .as("-Dlog4j2.threadContextMap=org.contextvars4j.log4j2.ContextThreadContextMap")
          .isInstanceOf(ContextThreadContextMap.class);

      System.clearProperty(PROPERTY);
      assertThat(new Log4jProvider().getThreadContextMapInstance())
          .as("nothing set: the dependency's default")
          .isInstanceOf(ContextThreadContextMap.class);
    } finally {
      System.clearProperty(PROPERTY);
    }
  }
}
