package org.qtale.format;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.qtale.QtaleException;
import org.qtale.model.LayerWeights;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaModel;
import org.qtale.model.LlamaWeights;
import org.qtale.tensor.F32Weights;
import org.qtale.tensor.LinearWeights;

/**
 * The legacy (version 0) llama2.c checkpoint: seven int32 header fields {@code dim, hidden_dim, n_layers, n_heads,
 * n_kv_heads, vocab_size, seq_len} (a negative vocab size means the classifier is not shared with the embedding), then
 * float32 tensors grouped by kind across layers: embedding, attention norms, wq, wk, wv, wo, ffn norms, w1, w2, w3, the
 * final norm, two unused RoPE tables, and the classifier when unshared. The matrices are memory-mapped in place.
 */
public final class Llama2cCheckpoint {
    private static final ValueLayout.OfInt INT = JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int HEADER_BYTES = 7 * Integer.BYTES;
    /** The magic number of llama2.c's later export versions ("ak42"). */
    private static final int EXPORT_MAGIC = 0x616b3432;

    private Llama2cCheckpoint() {
    }

    /** Reads the header of a checkpoint file and checks it describes a plausible model. */
    public static LlamaConfig readConfig(MemorySegment file, Path path) {
        if (file.byteSize() < HEADER_BYTES) {
            throw new QtaleException(path + " is too short to be a llama2.c checkpoint (" + file.byteSize() + " bytes).");
        }
        int[] h = new int[7];
        for (int i = 0; i < 7; i++) {
            h[i] = file.get(INT, 4L * i);
        }
        if (h[0] == EXPORT_MAGIC) {
            throw new QtaleException(path + " is a llama2.c export of version " + h[1]
                    + "; qtale reads the legacy version-0 format (export.py --version 0).");
        }
        int dim = h[0], hidden = h[1], layers = h[2], heads = h[3], kvHeads = h[4], vocab = Math.abs(h[5]), seqLen = h[6];
        boolean plausible = dim > 0 && dim <= 65536 && hidden > 0 && hidden <= 1 << 20 && layers > 0 && layers <= 1024
                && heads > 0 && heads <= dim && kvHeads > 0 && kvHeads <= heads && vocab > 0 && vocab <= 1 << 22
                && seqLen > 0 && seqLen <= 1 << 22 && dim % heads == 0 && heads % kvHeads == 0;
        if (!plausible) {
            throw new QtaleException(path + " does not start with a valid llama2.c header (dim " + dim + ", hidden " + hidden
                    + ", layers " + layers + ", heads " + heads + ", kv heads " + kvHeads + ", vocab " + h[5]
                    + ", seq_len " + seqLen + ").");
        }
        return LlamaConfig.llama2c(dim, hidden, layers, heads, kvHeads, vocab, seqLen, h[5] > 0);
    }

    /** Bytes a checkpoint of this shape must have. */
    public static long expectedSize(LlamaConfig c) {
        long ropeTables = (long) c.contextLength() * c.headDim();
        long floats = c.parameterCount() + ropeTables;
        return HEADER_BYTES + floats * Float.BYTES;
    }

    public static LlamaModel load(Path path) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment file = MappedFile.map(path, arena);
            LlamaConfig config = readConfig(file, path);
            long expected = expectedSize(config);
            if (file.byteSize() < expected) {
                throw new QtaleException(path + " is truncated: a model of this shape needs " + expected
                        + " bytes but the file has " + file.byteSize() + ".");
            }
            return new LlamaModel(config, weights(file, config), arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static LlamaWeights weights(MemorySegment file, LlamaConfig c) {
        Cursor in = new Cursor(file, HEADER_BYTES);
        int dim = c.dim(), hidden = c.hiddenDim(), layers = c.nLayers(), q = c.qDim(), kv = c.kvDim();
        LinearWeights embedding = in.matrix(c.vocabSize(), dim);
        float[][] attentionNorm = in.vectors(layers, dim);
        LinearWeights[] wq = in.matrices(layers, q, dim);
        LinearWeights[] wk = in.matrices(layers, kv, dim);
        LinearWeights[] wv = in.matrices(layers, kv, dim);
        LinearWeights[] wo = in.matrices(layers, dim, q);
        float[][] ffnNorm = in.vectors(layers, dim);
        LinearWeights[] w1 = in.matrices(layers, hidden, dim);
        LinearWeights[] w2 = in.matrices(layers, dim, hidden);
        LinearWeights[] w3 = in.matrices(layers, hidden, dim);
        float[] finalNorm = in.vectors(1, dim)[0];
        in.skip((long) c.contextLength() * c.headDim() * Float.BYTES); // freq_cis_real and freq_cis_imag
        LinearWeights output = c.tiedEmbeddings() ? embedding : in.matrix(c.vocabSize(), dim);
        List<LayerWeights> blocks = new ArrayList<>(layers);
        for (int l = 0; l < layers; l++) {
            blocks.add(new LayerWeights(attentionNorm[l], wq[l], wk[l], wv[l], wo[l], ffnNorm[l], w1[l], w3[l], w2[l]));
        }
        return new LlamaWeights(embedding, blocks, finalNorm, output, false);
    }

    /** Walks the file front to back. */
    private static final class Cursor {
        private final MemorySegment file;
        private long offset;

        Cursor(MemorySegment file, long offset) {
            this.file = file;
            this.offset = offset;
        }

        LinearWeights matrix(int rows, int cols) {
            long bytes = (long) rows * cols * Float.BYTES;
            F32Weights w = new F32Weights(file.asSlice(offset, bytes), rows, cols);
            offset += bytes;
            return w;
        }

        LinearWeights[] matrices(int count, int rows, int cols) {
            LinearWeights[] m = new LinearWeights[count];
            for (int i = 0; i < count; i++) {
                m[i] = matrix(rows, cols);
            }
            return m;
        }

        float[][] vectors(int count, int length) {
            float[][] v = new float[count][length];
            for (int i = 0; i < count; i++) {
                MemorySegment.copy(file, FLOAT, offset, v[i], 0, length);
                offset += (long) length * Float.BYTES;
            }
            return v;
        }

        void skip(long bytes) {
            offset += bytes;
        }
    }
}
