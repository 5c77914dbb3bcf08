"""Per-reference analysis: what each reference image shows, cached by content hash.

`detect` finds faces, bodies, salient objects and colours (used for casting and framing);
`models`, `matte`, `fill` and `landmarks` make subject cut-outs, background plates and face
landmarks for composites, parallax and life. Nothing here imports the engines or the API.
"""
