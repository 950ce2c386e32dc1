package org.qtale.quant;

import org.qtale.quant.PackedTensors.FloatMatrix;
import org.qtale.quant.PackedTensors.IntMatrix;

/**
 * How a checkpoint packs a {@link QuantizedMatrix} into int32 tensors: GPTQ's ({@link GptqLayout}) or AWQ's
 * ({@link AwqLayout}). Both keep {@code nn.Linear}'s orientation transposed, input channels (K) first, and store the
 * scales as {@code [K/groupSize][N]}; they differ in the direction of packing and in how zero points are stored.
 *
 * <p>The pieces can be packed one at a time ({@link #qweight}, {@link #qzeros}, {@link #scales}, {@link #gIdx}),
 * so that a checkpoint writer holds one packed tensor in memory at a time; {@link #check} says up front whether a
 * matrix fits the layout at all, and the shapes are known before anything is packed.
 */
public sealed interface CheckpointLayout permits GptqLayout, AwqLayout {
    /** Throws a {@link org.qtale.QtaleException} naming {@code name} when {@code m} cannot be stored in this layout. */
    void check(QuantizedMatrix m, String name);

    /** The shape of {@link #qweight}, known without packing. */
    int[] qweightShape(QuantizedMatrix m);

    /** The shape of {@link #qzeros}, known without packing. */
    int[] qzerosShape(QuantizedMatrix m);

    /** The packed codes. */
    IntMatrix qweight(QuantizedMatrix m);

    /** The packed zero points. */
    IntMatrix qzeros(QuantizedMatrix m);

    /** The scales as {@code [groups][N]}: {@code m}'s scales transposed, still in float. */
    default FloatMatrix scales(QuantizedMatrix m) {
        int groups = m.groups();
        float[] out = new float[groups * m.rows()];
        for (int n = 0; n < m.rows(); n++) {
            for (int g = 0; g < groups; g++) {
                out[g * m.rows() + n] = m.scale(n, g);
            }
        }
        return new FloatMatrix(groups, m.rows(), out);
    }

    /** The group of each input channel, or null when the layout stores none. */
    int[] gIdx(QuantizedMatrix m);

    /** All tensors of {@code m}, after {@link #check}. */
    default PackedTensors pack(QuantizedMatrix m, String name) {
        check(m, name);
        return new PackedTensors(qweight(m), qzeros(m), scales(m), gIdx(m));
    }

    /**
     * The matrix that {@code t} stores, its shapes checked against each other.
     *
     * @param bits      the code width from {@code quantization_config}
     * @param groupSize the group size from {@code quantization_config}; −1 for one group per output channel
     * @param name      names the layer in error messages, e.g. {@code model.layers.0.mlp.up_proj}
     */
    QuantizedMatrix unpack(PackedTensors t, int bits, int groupSize, String name);
}
