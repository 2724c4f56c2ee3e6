"""The guided lessons: what each one is called and what a teacher would say before starting it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LessonInfo:
    key: str
    title: str
    paragraph: str  # rich text, a teacher's explanation
    start_text: str  # what the Start button promises


PARAMETERS = "parameters"
SHUFFLED = "shuffled-pixels"
X_VS_O = "x-vs-o"
STRIPES = "stripes-edge"
RECEPTIVE = "receptive-field"

LESSONS: tuple[LessonInfo, ...] = (
    LessonInfo(
        PARAMETERS,
        "MLP vs CNN: counting parameters",
        "A multi-layer perceptron connects every pixel to every unit of its first layer: for a 28×28 "
        "picture and 512 units that is already 784 × 512 weights, and the count grows with the picture. "
        "A convolution layer instead slides a few small kernels over the picture and uses the same "
        "weights everywhere, so its count depends only on the kernel size and the number of filters. "
        "Start opens LeNet-5 and puts its summary next to the MLP's, for the same 28×28 digits.",
        "Compare the two summaries",
    ),
    LessonInfo(
        SHUFFLED,
        "Shuffled pixels: what convolutions rely on",
        "Shuffle the pixels of every picture the same way and a digit becomes noise to our eyes. An MLP "
        "does not mind: it never knew which pixels were neighbours, so it learns just as well. A CNN's "
        "kernels look at small neighbourhoods; once neighbours are scattered there are no strokes or edges "
        "left to find. Start trains four short runs — the MLP and LeNet-5, each on ordered and on "
        "shuffled pixels — and overlays their curves.",
        "Train the four runs",
    ),
    LessonInfo(
        X_VS_O,
        "X or O: the lecture's example, learned",
        "The classic lecture recognises an X by three small features: two diagonals and their crossing. "
        "Here a small CNN learns features of its own from drawn X and O shapes. Start trains it for a few "
        "epochs, then shows its first-layer filters (look for diagonal and curved strokes) and what "
        "every layer makes of an X.",
        "Train and look inside",
    ),
    LessonInfo(
        STRIPES,
        "One filter learns to find edges",
        "The stripes pictures show either horizontal or vertical lines. One 5×5 filter, the largest value "
        "it finds anywhere (global max pooling) and two output units are enough to tell them apart — so "
        "the filter has to become a line or edge detector. Start trains it, then shows the learned filter "
        "beside the hand-made Sobel kernel, and lets you slide it over stripes in the playground.",
        "Train the edge detector",
    ),
    LessonInfo(
        RECEPTIVE,
        "How far a neuron sees: receptive fields",
        "One 3×3 convolution sees 3×3 pixels. Stack a second one and each of its outputs sees 3×3 outputs "
        "of the first, 5×5 pixels in all; every pooling layer doubles the step, so the next layers grow "
        "twice as fast. Start builds a deep stack of 3×3 convolutions with pooling and walks through it "
        "layer by layer, with each layer's receptive field from the summary.",
        "Build the stack and walk through it",
    ),
)


def lesson(key: str) -> LessonInfo:
    for info in LESSONS:
        if info.key == key:
            return info
    raise KeyError(f"no lesson {key!r}; lessons: {', '.join(i.key for i in LESSONS)}")
