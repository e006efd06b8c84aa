package org.contextvars4j.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URL;
import java.net.URLClassLoader;
import org.contextvars4j.Context;
import org.junit.jupiter.api.Test;

/**
 * Under the agent there is one copy of the core, the bootstrap class loader's: class loaders that
 * ask their parent first get it, and one that defines its own copy fails loudly at once.
 */
class SecondCopyIT {

  @Test
  void theCoreIsTheBootstrapLoadersCopy() {
    assertThat(Context.class.getClassLoader()).isNull();
  }

  @Test
  void aLoaderThatAsksItsParentFirstGetsTheOneCopy() throws Exception {
    try (URLClassLoader parentFirst = new URLClassLoader(new URL[] {coreLocation()})) {
      assertThat(Class.forName("org.contextvars4j.Context", true, parentFirst))
          .isSameAs(Context.class);
    }
  }

  @Test
  void aChildFirstLoadersOwnCopyFailsAtItsFirstUse_sayingWhatToDo() throws Exception {
    try (URLClassLoader childFirst = new ChildFirst(coreLocation())) {
      Class<?> second = Class.forName("org.contextvars4j.Context", false, childFirst);
      assertThat(second).isNotSameAs(Context.class);
      assertThatThrownBy(() -> Class.forName("org.contextvars4j.Context", true, childFirst))
          .isInstanceOf(ExceptionInInitializerError.class)
          .cause()
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("a second copy of contextvars4j-core was loaded by " + childFirst)
          .hasMessageContaining("ask its parent for the org.contextvars4j classes");
    }
  }

  /** The agent's jar, which holds the core's classes (the system loader finds them there). */
  private static URL coreLocation() throws Exception {
    URL context = ClassLoader.getSystemResource("org/contextvars4j/Context.class");
    assertThat(context.getProtocol()).isEqualTo("jar");
    String file = context.getFile();
    return new URL(file.substring(0, file.indexOf("!/")));
  }

  /** A loader that defines the core's classes itself, as child-first web-application ones do. */
  private static final class ChildFirst extends URLClassLoader {
    ChildFirst(URL core) {
      super(new URL[] {core}, SecondCopyIT.class.getClassLoader());
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      if (!name.startsWith("org.contextvars4j.")) {
        return super.loadClass(name, resolve);
      }
      synchronized (getClassLoadingLock(name)) {
        Class<?> loaded = findLoadedClass(name);
        return loaded != null ? loaded : findClass(name);
      }
    }

    @Override
    public String toString() {
      return "a child-first loader";
    }
  }
}
