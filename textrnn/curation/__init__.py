"""Better data: what to fix in a corpus and what to label next.

    duplicates.py    exact and near-duplicate texts, within and across files
    label_issues.py  texts whose label is probably wrong (cross-fitting + confident learning)
"""
