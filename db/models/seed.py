from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base


class SeedFile(Base):
    """What the seed loader last loaded from one YAML file, and the rows that file owns.

    `owned` maps a table name to the ids of the rows the file created or adopted. A later run
    deletes the rows a file no longer describes, and only those: rows added through the API
    are never owned by a file. `content_hash` lets an unchanged set of files skip all work.
    """

    __tablename__ = "seed_file"
    __table_args__ = (
        CheckConstraint("content_hash ~ '^[0-9a-f]{64}$'", name="content_hash_sha256"),
        CheckConstraint("jsonb_typeof(owned) = 'object'", name="owned_object"),
    )

    # Path relative to the seeds package for shipped files, else the absolute path.
    key: Mapped[str] = mapped_column(String(1000), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    owned: Mapped[dict[str, list[str]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    loaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
