package org.contextvars4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Keeps the rare path of a set out of the set's compiled code: HotSpot's C2 inlines no method over
 * FreqInlineSize (325 bytecodes) at any call site, and {@code ThreadState.prepareSet} must stay
 * such a method (see its comment: otherwise a thread whose sets are never reset can leave every
 * set + reset of the process keeping its token, as decided by when the compiler ran). The size is
 * read from the compiled class file, as the JIT sees it.
 */
final class ThreadStateCodeSizeTest {

  /** HotSpot's FreqInlineSize on every platform it ships C2 for (x86-64, AArch64). */
  private static final int FREQ_INLINE_SIZE = 325;

  @Test
  void prepareSet_isLargerThanWhatC2InlinesAtAHotCallSite() throws IOException {
    int size = bytecodeSizes(ThreadState.class).getOrDefault("prepareSet", -1);

    assertThat(size)
        .as(
            "bytecodes of ThreadState.prepareSet: keep the rare path of a set in one method over"
                + " %d bytecodes, or every ContextVar.set compiled while it is hot keeps its token",
            FREQ_INLINE_SIZE)
        .isGreaterThan(FREQ_INLINE_SIZE);
  }

  /** The code length of each method of {@code type} (the last one, for an overloaded name). */
  private static Map<String, Integer> bytecodeSizes(Class<?> type) throws IOException {
    String resource = type.getSimpleName() + ".class";
    try (InputStream raw = type.getResourceAsStream(resource)) {
      assertThat(raw).as("class file %s", resource).isNotNull();
      DataInputStream in = new DataInputStream(raw);
      in.readInt(); // magic
      in.readUnsignedShort(); // minor version
      in.readUnsignedShort(); // major version
      String[] utf8 = readConstantPool(in);
      in.readUnsignedShort(); // access flags
      in.readUnsignedShort(); // this class
      in.readUnsignedShort(); // super class
      in.skipBytes(2 * in.readUnsignedShort()); // interfaces
      int fields = in.readUnsignedShort();
      for (int i = 0; i < fields; i++) {
        in.skipBytes(6); // access, name, descriptor
        skipAttributes(in);
      }
      Map<String, Integer> sizes = new HashMap<>();
      int methods = in.readUnsignedShort();
      for (int i = 0; i < methods; i++) {
        in.readUnsignedShort(); // access
        String name = utf8[in.readUnsignedShort()];
        in.readUnsignedShort(); // descriptor
        int attributes = in.readUnsignedShort();
        for (int a = 0; a < attributes; a++) {
          String attribute = utf8[in.readUnsignedShort()];
          int length = in.readInt();
          if (attribute.equals("Code")) {
            in.readUnsignedShort(); // max stack
            in.readUnsignedShort(); // max locals
            int codeLength = in.readInt();
            sizes.put(name, codeLength);
            in.skipBytes(length - 8);
          } else {
            in.skipBytes(length);
          }
        }
      }
      return sizes;
    }
  }

  /** Reads the constant pool; returns its UTF-8 entries by index (null for the others). */
  private static String[] readConstantPool(DataInputStream in) throws IOException {
    int count = in.readUnsignedShort();
    String[] utf8 = new String[count];
    for (int i = 1; i < count; i++) {
      int tag = in.readUnsignedByte();
      switch (tag) {
        case 1 -> {
          byte[] bytes = new byte[in.readUnsignedShort()];
          in.readFully(bytes);
          // Modified UTF-8; the names looked up here are ASCII.
          utf8[i] = new String(bytes, StandardCharsets.UTF_8);
        }
        case 7, 8, 16, 19, 20 -> in.skipBytes(2);
        case 15 -> in.skipBytes(3);
        case 3, 4, 9, 10, 11, 12, 17, 18 -> in.skipBytes(4);
        case 5, 6 -> {
          in.skipBytes(8);
          i++; // a long or a double takes two entries
        }
        default -> throw new IOException("unknown constant pool tag " + tag + " at entry " + i);
      }
    }
    return utf8;
  }

  private static void skipAttributes(DataInputStream in) throws IOException {
    int attributes = in.readUnsignedShort();
    for (int a = 0; a < attributes; a++) {
      in.readUnsignedShort(); // name
      in.skipBytes(in.readInt());
    }
  }
}
